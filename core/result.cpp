#include "core/result.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/run_info.hpp"

namespace assay {

const char* to_string(Direction d) {
    switch (d) {
        case Direction::higher_is_better:
            return "higher";
        case Direction::lower_is_better:
            return "lower";
        case Direction::none:
            return "none";
    }
    return "none";
}

Direction direction_from_string(const std::string& s) {
    if (s == "higher")
        return Direction::higher_is_better;
    if (s == "lower")
        return Direction::lower_is_better;
    if (s == "none")
        return Direction::none;
    throw InputError(fmt::format("unknown metric direction '{}'", s));
}

const char* to_string(ResultStatus s) {
    switch (s) {
        case ResultStatus::ok:
            return "ok";
        case ResultStatus::failed:
            return "failed";
        case ResultStatus::skipped:
            return "skipped";
    }
    return "failed";
}

ResultStatus result_status_from_string(const std::string& s) {
    if (s == "ok")
        return ResultStatus::ok;
    if (s == "failed")
        return ResultStatus::failed;
    if (s == "skipped")
        return ResultStatus::skipped;
    throw InputError(fmt::format("unknown result status '{}'", s));
}

const char* to_string(RunStatus s) {
    switch (s) {
        case RunStatus::running:
            return "running";
        case RunStatus::complete:
            return "complete";
        case RunStatus::incomplete:
            return "incomplete";
    }
    return "incomplete";
}

RunStatus run_status_from_string(const std::string& s) {
    if (s == "running")
        return RunStatus::running;
    if (s == "complete")
        return RunStatus::complete;
    if (s == "incomplete")
        return RunStatus::incomplete;
    throw InputError(fmt::format("unknown run status '{}'", s));
}

const Metric* Result::find_metric(const std::string& name) const {
    for (const auto& m : metrics) {
        if (m.name == name) {
            return &m;
        }
    }
    return nullptr;
}

}  // namespace assay
