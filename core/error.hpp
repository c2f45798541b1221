#pragma once
/// Assay's one exception hierarchy. Libraries throw these; only the CLI prints them.
/// "Unsupported here" is a skip with a reason (see result.hpp), not a failure: the catalog sets it
/// when it can tell up front; a kernel that only finds out on the device throws UnsupportedError.
#include <stdexcept>
#include <string>

namespace assay {

/// Base of every error Assay throws on purpose. what() is one line, fit for the terminal.
class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The user asked for something malformed (a bad flag value, an unknown name, a bad regex).
class UsageError : public Error {
  public:
    using Error::Error;
};

/// An input file is missing, unreadable or malformed (topology XML, spec, JSON).
class InputError : public Error {
  public:
    using Error::Error;
};

/// The result store could not be opened, read or written.
class StoreError : public Error {
  public:
    using Error::Error;
};

/// The store was written by a newer Assay (schema version above what this build knows).
class SchemaTooNewError : public StoreError {
  public:
    using StoreError::StoreError;
};

/// The benchmark cannot run here, found out only when its kernel is prepared (e.g. a library has
/// no engine for the problem on this device). The harness records a *skipped* result with what()
/// as the reason, never a failed one.
class UnsupportedError : public Error {
  public:
    using Error::Error;
};

}  // namespace assay
