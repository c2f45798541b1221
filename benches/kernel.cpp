#include "benches/kernel.hpp"

namespace assay {

std::string BenchmarkDef::full_name() const {
    return bench_case.id() + "@" + device + ":" + backend;
}

}  // namespace assay
