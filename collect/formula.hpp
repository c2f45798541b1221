#pragma once
/// A tiny formula language for derived counter metrics (likwid-style groups as data):
/// numbers, identifiers (event names such as `PAPI_TOT_INS` or `perf::TASK-CLOCK`, and `time`),
/// + - * / and parentheses, with the usual precedence and left associativity.
///
/// Identifiers start with a letter or '_' and continue with letters, digits, '_', ':' and '.';
/// a '-' directly followed by a letter continues an identifier (`perf::TASK-CLOCK`), so write a
/// subtraction of identifiers with spaces: `a - b`.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace assay {

/// Evaluates `expr` with identifiers looked up in `vars`. Returns nullopt when a division by
/// zero (or a non-finite result) makes the value undefined. Throws InputError on a syntax error
/// or an identifier missing from `vars`, naming the formula and the problem.
std::optional<double> evaluate_formula(const std::string& expr,
                                       const std::map<std::string, double>& vars);

/// The distinct identifiers `expr` refers to, in order of first use. Throws InputError on a
/// syntax error.
std::vector<std::string> formula_identifiers(const std::string& expr);

}  // namespace assay
