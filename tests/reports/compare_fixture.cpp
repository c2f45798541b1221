#include "tests/reports/compare_fixture.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/ceiling.hpp"
#include "core/host_info.hpp"
#include "core/result.hpp"
#include "core/sha256.hpp"
#include "store/store.hpp"

namespace assay::test {
namespace {

/// splitmix64: deterministic, platform-independent noise for the samples.
class Noise {
  public:
    explicit Noise(std::uint64_t seed) : state_(seed) {}
    /// Uniform in [0, 1).
    double next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        return static_cast<double>(z >> 11) / 9007199254740992.0;
    }

  private:
    std::uint64_t state_;
};

/// Seconds per execution: a floor plus right-skewed noise (timings are never below the floor).
std::vector<double> timing_samples(double floor_seconds, double spread, std::size_t n,
                                   std::uint64_t seed) {
    Noise noise(seed);
    std::vector<double> s;
    for (std::size_t i = 0; i < n; ++i) {
        const double u = noise.next();
        s.push_back(floor_seconds * (1.0 + spread * u * u));
    }
    return s;
}

void add_throughput(Result& r, const std::string& prefix, double work, const std::string& unit) {
    r.metrics.push_back({prefix + ".best", work / r.stats.min, unit, Direction::higher_is_better});
    r.metrics.push_back(
        {prefix + ".median", work / r.stats.median, unit, Direction::higher_is_better});
}

Result base_result(const std::string& benchmark, Params params, const std::string& device,
                   const std::string& backend, double floor_seconds, double spread, std::size_t n,
                   std::uint64_t seed) {
    Result r;
    r.bench_case.benchmark = benchmark;
    r.bench_case.params = std::move(params);
    r.device = device;
    r.backend = backend;
    r.status = ResultStatus::ok;
    r.samples = timing_samples(floor_seconds, spread, n, seed);
    r.stats = summarize(r.samples);
    r.verified = true;
    r.verification = "fixture: checked against an fp64 reference";
    r.implementation = backend;
    r.started_at = "2026-11-20T10:00:00.000Z";
    r.wall_seconds = static_cast<double>(n) * floor_seconds * 1.2 + 0.1;
    r.metrics.push_back({"noise.rel_iqr", r.stats.rel_iqr(), "ratio", Direction::none});
    return r;
}

/// GEMM: m=n=k=size, achieving `gflops` at its floor time.
Result gemm(const std::string& device, const std::string& backend, const std::string& dtype,
            std::uint64_t size, double gflops, std::uint64_t seed, bool cpu, double power_w = 0) {
    const double flops = 2.0 * std::pow(static_cast<double>(size), 3);
    Params p{{"dtype", dtype},
             {"layout", "nn"},
             {"m", std::to_string(size)},
             {"n", std::to_string(size)},
             {"k", std::to_string(size)}};
    if (cpu) {
        p["placement"] = "all_cores";
    }
    Result r =
        base_result("gemm.square", p, device, backend, flops / (gflops * 1e9), 0.08, 25, seed);
    const bool integer = dtype.rfind("s8", 0) == 0 || dtype.rfind("u8", 0) == 0;
    add_throughput(r, integer ? "gop_per_s" : "gflop_per_s", flops / 1e9,
                   integer ? "GOP/s" : "GFLOP/s");
    const double elem = dtype == "f32" ? 4 : (integer ? 1 : 2);
    r.metrics.push_back({"working_set_bytes",
                         3.0 * elem * static_cast<double>(size) * static_cast<double>(size),
                         "bytes", Direction::none});
    if (power_w > 0) {
        r.metrics.push_back({cpu ? "telemetry.power_w.avg" : "telemetry.gpu_power_w.avg", power_w,
                             "W", Direction::none});
    }
    return r;
}

Result stream_triad(const std::string& device, const std::string& backend, double gb_per_s,
                    std::uint64_t seed, double power_w) {
    const double bytes = 3.0 * 134217728.0;
    const bool cpu = device == "cpu";
    Params p = cpu ? Params{{"dtype", "f64"}, {"placement", "all_cores"}, {"size", "dram"}}
                   : Params{{"dtype", "f64"}, {"op", "triad"}, {"size", "dram"}};
    Result r = base_result(cpu ? "stream.triad" : "gpu.mem", p, device, backend,
                           bytes / (gb_per_s * 1e9), 0.05, 30, seed);
    add_throughput(r, "bandwidth_stream_gb_per_s", bytes / 1e9, "GB/s");
    r.metrics.push_back({"working_set_bytes", bytes, "bytes", Direction::none});
    if (power_w > 0) {
        r.metrics.push_back({cpu ? "telemetry.power_w.avg" : "telemetry.gpu_power_w.avg", power_w,
                             "W", Direction::none});
    }
    return r;
}

Result attention_prefill(const std::string& device, const std::string& backend, double gflops,
                         std::uint64_t seed) {
    // llama3_8b, bf16, S=2048 causal, batch 1: 4·B·H·D·pairs with pairs = S(S+1)/2.
    const double pairs = 2048.0 * 2049.0 / 2.0;
    const double flops = 4.0 * 32.0 * 128.0 * pairs;
    const double bytes = 2.0 * (2048.0 * 32 * 128 + 2.0 * 2048.0 * 8 * 128) + 4.0 * 2048 * 32 * 128;
    Params p{{"batch", "1"},    {"causal", "true"}, {"dtype", "bf16"},       {"head_dim", "128"},
             {"heads_kv", "8"}, {"heads_q", "32"},  {"preset", "llama3_8b"}, {"seq", "2048"}};
    if (device == "cpu") {
        p["placement"] = "all_cores";
    }
    Result r = base_result("attention.prefill", p, device, backend, flops / (gflops * 1e9), 0.06,
                           20, seed);
    add_throughput(r, "gflop_per_s", flops / 1e9, "GFLOP/s");
    add_throughput(r, "bandwidth_stream_gb_per_s", bytes / 1e9, "GB/s");
    return r;
}

/// mem.sweep sum kernel, one core: bandwidth per level.
void add_sweep(std::vector<Result>& out, const HostInfo& host, std::uint64_t seed,
               const std::vector<std::pair<std::uint64_t, double>>& points_gb_per_s) {
    for (const auto& [bytes, gbs] : points_gb_per_s) {
        std::string level = "DRAM";
        for (const CacheLevel& c : host.topology.caches) {
            if (c.type == "instruction") {
                continue;
            }
            if (bytes <= c.size_bytes) {
                level = c.name();
                break;
            }
        }
        const double reps = std::max(1.0, 2e8 / static_cast<double>(bytes));
        const double work = static_cast<double>(bytes) * reps;
        Result r = base_result(
            "mem.sweep",
            {{"bytes", std::to_string(bytes)}, {"kernel", "sum"}, {"placement", "one_core"}}, "cpu",
            "cpu.native", work / (gbs * 1e9), 0.04, 15, seed++);
        add_throughput(r, "bandwidth_stream_gb_per_s", work / 1e9, "GB/s");
        r.metrics.push_back({"level." + level, 1, "level", Direction::none});
        r.metrics.push_back(
            {"working_set_bytes", static_cast<double>(bytes), "bytes", Direction::none});
        r.metrics.push_back({"threads", 1, "threads", Direction::none});
        out.push_back(std::move(r));
    }
}

/// mem.latency (pointer chase, THP): ns per load.
void add_latency(std::vector<Result>& out, const HostInfo& host, std::uint64_t seed,
                 const std::vector<std::pair<std::uint64_t, double>>& points_ns) {
    for (const auto& [bytes, ns] : points_ns) {
        std::string level = "DRAM";
        for (const CacheLevel& c : host.topology.caches) {
            if (c.type == "instruction") {
                continue;
            }
            if (bytes <= c.size_bytes) {
                level = c.name();
                break;
            }
        }
        const double loads = 8388608.0;
        Result r = base_result("mem.latency", {{"bytes", std::to_string(bytes)}, {"pages", "thp"}},
                               "cpu", "cpu.native", loads * ns * 1e-9, 0.03, 7, seed++);
        r.metrics.push_back(
            {"latency_ns.best", r.stats.min / loads * 1e9, "ns", Direction::lower_is_better});
        r.metrics.push_back(
            {"latency_ns.median", r.stats.median / loads * 1e9, "ns", Direction::lower_is_better});
        r.metrics.push_back({"level." + level, 1, "level", Direction::none});
        r.metrics.push_back(
            {"working_set_bytes", static_cast<double>(bytes), "bytes", Direction::none});
        out.push_back(std::move(r));
    }
}

CacheLevel cache(int level, const char* type, std::uint64_t size, unsigned instances,
                 unsigned cores_per) {
    CacheLevel c;
    c.level = level;
    c.type = type;
    c.size_bytes = size;
    c.line_bytes = 64;
    c.associativity = level == 1 ? 8 : 16;
    c.instances = instances;
    c.cores_per_instance = cores_per;
    c.pus_per_instance = cores_per;
    return c;
}

void fill_topology(HostInfo& h, unsigned packages, unsigned cores, unsigned numa,
                   std::uint64_t memory_bytes) {
    TopologyInfo& t = h.topology;
    t.source = "this host";
    t.hwloc_version = "2.9.0";
    t.packages = packages;
    t.cores = cores;
    t.pus = cores;
    t.max_pus_per_core = 1;
    for (unsigned n = 0; n < numa; ++n) {
        NumaNodeInfo node;
        node.os_index = n;
        node.local_memory_bytes = memory_bytes / numa;
        t.numa_nodes.push_back(node);
    }
    t.numa_memory_bytes = memory_bytes;
    t.os_memory_bytes = memory_bytes;
}

HostInfo gpu_host_info() {
    HostInfo h;
    h.identity = {"gpu-host", "0f3c9a11d2b84e6f9a7b5c3d1e2f4a6b", "Amazon EC2", "p5.48xlarge",
                  "1.0"};
    h.cpu.arch = "x86_64";
    h.cpu.vendor = "GenuineIntel";
    h.cpu.model_name = "Intel(R) Xeon(R) Platinum 8488C";
    h.cpu.family = 6;
    h.cpu.model = 143;
    h.cpu.stepping = 8;
    h.cpu.microarchitecture = "Sapphire Rapids";
    h.cpu.isa_features = {"amx_bf16",    "amx_int8",    "amx_tile", "avx2",    "avx512_bf16",
                          "avx512_fp16", "avx512_vnni", "avx512bw", "avx512f", "fma"};
    h.cpu.isa_source = "cpuid";
    h.cpu.base_mhz = 2400;
    h.cpu.max_mhz = 3800;
    h.cpu.frequency_source = "cpuid leaf 0x16";
    fill_topology(h, 2, 96, 2, 2199023255552ULL);
    h.topology.caches = {cache(1, "data", 49152, 96, 1), cache(1, "instruction", 32768, 96, 1),
                         cache(2, "unified", 2097152, 96, 1),
                         cache(3, "unified", 110100480, 2, 48)};
    AcceleratorInfo acc;
    acc.pci_bus_id = "0000:53:00.0";
    acc.vendor_id = 0x10de;
    acc.device_id = 0x2330;
    acc.class_id = 0x0302;
    acc.vendor = "NVIDIA Corporation";
    acc.model = "GH100 [H100 SXM5 80GB]";
    acc.os_devices = {"cuda0", "nvml0"};
    acc.numa_nodes = {0};
    h.topology.accelerators.push_back(acc);
    h.os = {"6.8.0-1015-aws",
            "Ubuntu 24.04.1 LTS",
            "performance",
            "madvise",
            "madvise",
            0,
            2097152,
            "on",
            2,
            0,
            false,
            "perf_event_paranoid=2 and no CAP_PERFMON",
            "KVM",
            "none"};
    GpuInfo g;
    g.index = 0;
    g.name = "NVIDIA H100 80GB HBM3";
    g.uuid = "GPU-5b1d0c2e-7c6a-4f2b-9a51-0d7e3c9f8a21";
    g.pci_bus_id = "0000:53:00.0";
    g.memory_bytes = 85520809984ULL;
    g.sm_count = 132;
    g.cc_major = 9;
    g.cc_minor = 0;
    g.sm_clock_mhz = 1980;
    g.memory_clock_mhz = 2619;
    g.memory_bus_width_bits = 5120;
    g.numa_node = 0;
    h.gpu.gpus.push_back(g);
    h.gpu.driver_version = "12.4";
    h.gpu.runtime_version = "12.4";
    h.fingerprint_keys = {"cpu.model=Intel(R) Xeon(R) Platinum 8488C", "cores=96",
                          "gpu.0=NVIDIA H100 80GB HBM3"};
    h.fingerprint = sha256_hex("gpu-host fixture");
    h.probed_at = "2026-11-20T09:59:00.000Z";
    return h;
}

HostInfo ai_cpu_info() {
    HostInfo h;
    h.identity = {"ai-cpu", "7a1e44c09b2d4f7e8c6a5b3d2e1f0a9c", "Amazon EC2", "c8g.48xlarge",
                  "1.0"};
    h.cpu.arch = "aarch64";
    h.cpu.vendor = "ARM";
    h.cpu.model_name = "Neoverse-V2";
    h.cpu.family = 0x41;
    h.cpu.model = 0xd4f;
    h.cpu.stepping = 1;
    h.cpu.microarchitecture = "Neoverse V2";
    h.cpu.isa_features = {"asimd", "bf16", "i8mm", "sve", "sve2", "sve2_bf16"};
    h.cpu.sve_vector_bits = 128;
    h.cpu.isa_source = "hwcap";
    h.cpu.frequency_source = "unknown (no cpufreq in the guest)";
    fill_topology(h, 1, 192, 1, 412316860416ULL);
    h.topology.caches = {cache(1, "data", 65536, 192, 1), cache(1, "instruction", 65536, 192, 1),
                         cache(2, "unified", 2097152, 192, 1),
                         cache(3, "unified", 37748736, 1, 192)};
    h.os = {"6.8.0-1015-aws",
            "Ubuntu 24.04.1 LTS",
            "unknown",
            "always",
            "madvise",
            0,
            2097152,
            "notsupported",
            2,
            0,
            false,
            "no PMU exposed to the guest",
            "KVM",
            "none"};
    h.gpu.none_reason = "no CUDA driver (libcuda.so.1 not found)";
    h.fingerprint_keys = {"cpu.model=Neoverse-V2", "cores=192"};
    h.fingerprint = sha256_hex("ai-cpu fixture");
    h.probed_at = "2026-11-21T09:59:00.000Z";
    return h;
}

RunInfo run_info(const std::string& uuid, const std::string& started_at) {
    RunInfo info;
    info.uuid = uuid;
    info.started_at = started_at;
    info.tool_version = "0.9.0";
    info.git_sha = "bcd1274";
    info.compiler = "GCC 12.2.0";
    info.compiler_flags = "-O2 -g";
    info.build_type = "RelWithDebInfo";
    info.command_line = "assay run --suite quick";
    info.suite = "quick";
    info.pid = 4242;
    info.environment = {{"hwloc", "2.9.0"}, {"governor", "performance"}};
    return info;
}

std::int64_t store_run(Store& store, const HostInfo& host, const RunInfo& info,
                       const std::vector<Result>& results) {
    const std::int64_t config = store.record_host(host);
    const std::int64_t run = store.begin_run(config, info);
    std::vector<std::int64_t> ids;
    for (const Result& r : results) {
        ids.push_back(store.add_result(run, r));
    }
    store.add_ceilings(run, derive_ceilings(results), ids);
    store.finish_run(run, RunStatus::complete);
    return run;
}

}  // namespace

CompareFixtureIds write_compare_fixture(const std::filesystem::path& db) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(db.string() + suffix);
    }
    Store store = Store::open(db, OpenMode::create_read_write);
    CompareFixtureIds ids;

    const HostInfo gh = gpu_host_info();
    std::vector<Result> g;
    g.push_back(gemm("cpu", "cpu.onednn", "f32", 1024, 5200, 101, true, 640));
    g.push_back(gemm("cpu", "cpu.openblas", "f32", 1024, 4700, 102, true));
    g.push_back(gemm("cpu", "cpu.onednn", "bf16", 4096, 38000, 103, true, 700));
    g.push_back(gemm("cuda:0", "cublaslt", "f32", 1024, 38000, 104, false, 520));
    g.push_back(gemm("cuda:0", "cublaslt", "bf16", 4096, 720000, 105, false, 690));
    g.push_back(stream_triad("cpu", "cpu.native", 410, 106, 610));
    g.push_back(stream_triad("cuda:0", "cuda", 3050, 107, 450));
    g.push_back(attention_prefill("cpu", "cpu.flash", 2900, 108));
    g.push_back(attention_prefill("cuda:0", "cuda", 310000, 109));
    add_sweep(g, gh, 200,
              {{16384, 210},
               {32768, 205},
               {262144, 120},
               {1048576, 110},
               {8388608, 48},
               {67108864, 30},
               {536870912, 12.5}});
    add_latency(g, gh, 300,
                {{16384, 1.1},
                 {262144, 4.6},
                 {1048576, 5.0},
                 {16777216, 33},
                 {67108864, 38},
                 {1073741824, 118}});
    ids.gpu_host_run = store_run(
        store, gh, run_info("6f1c2a7e-2d0b-4c1f-9b3a-5e8d7c6b4a01", "2026-11-20T10:00:00.000Z"), g);

    const HostInfo ah = ai_cpu_info();
    std::vector<Result> a;
    a.push_back(gemm("cpu", "cpu.openblas", "f32", 1024, 6100, 401, true, 380));
    a.push_back(gemm("cpu", "cpu.blis", "f32", 1024, 5900, 402, true));
    a.push_back(gemm("cpu", "cpu.openblas", "bf16", 4096, 21000, 403, true, 395));
    a.push_back(gemm("cpu", "cpu.openblas", "s8s8s32", 4096, 44000, 404, true, 390));
    a.push_back(stream_triad("cpu", "cpu.native", 405, 405, 300));
    a.push_back(attention_prefill("cpu", "cpu.flash", 3100, 406));
    add_sweep(a, ah, 500,
              {{16384, 160},
               {32768, 158},
               {262144, 95},
               {1048576, 92},
               {8388608, 60},
               {33554432, 44},
               {536870912, 14}});
    add_latency(a, ah, 600,
                {{16384, 1.3},
                 {262144, 4.1},
                 {1048576, 4.4},
                 {16777216, 29},
                 {33554432, 31},
                 {1073741824, 109}});
    ids.ai_cpu_run = store_run(
        store, ah, run_info("9c2e4b6d-8a1f-4e3c-b5d7-1a2b3c4d5e6f", "2026-11-21T10:00:00.000Z"), a);
    return ids;
}

}  // namespace assay::test
