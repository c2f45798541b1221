// The comparison model built from the fixture store: selection, row line-up across devices,
// ratios and verdicts, one-sided cases, curves, rooflines, projections, prices.
#include <algorithm>
#include <filesystem>
#include <string>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "reports/compare/compare_model.hpp"
#include "reports/compare/price.hpp"
#include "store/store.hpp"
#include "tests/reports/compare_fixture.hpp"

namespace fs = std::filesystem;
using namespace assay;

namespace {

fs::path fixture_db(const std::string& name) {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "compare";
    fs::create_directories(dir);
    // One file per process: CTest runs this file's test cases in parallel.
    const fs::path db = dir / (std::to_string(::getpid()) + "-" + name);
    test::write_compare_fixture(db);
    return db;
}

CompareModel build(const fs::path& db, CompareOptions o = {}) {
    Store store = Store::open(db, OpenMode::read_only);
    o.generated_at = "2026-11-25T00:00:00Z";
    o.bootstrap_resamples = 500;
    return build_compare_model({{&store, "fixture.db"}}, o);
}

const CompareRow* find_row(const CompareModel& m, const std::string& benchmark,
                           const std::string& params, const std::string& base_dev,
                           const std::string& other_dev) {
    for (const CompareRow& r : m.rows) {
        if (r.benchmark == benchmark && r.params == params && r.baseline_device == base_dev &&
            r.other_device == other_dev) {
            return &r;
        }
    }
    return nullptr;
}

const std::string kF32 = "dtype=f32,k=1024,layout=nn,m=1024,n=1024";
const std::string kBf16 = "dtype=bf16,k=4096,layout=nn,m=4096,n=4096";

}  // namespace

TEST_CASE("host selectors parse", "[compare][model]") {
    CHECK(parse_host_selector("gpu-host").kind == HostSelector::Kind::hostname);
    CHECK(parse_host_selector("hostname:x").value == "x");
    CHECK(parse_host_selector("fingerprint:ab12").kind == HostSelector::Kind::fingerprint);
    CHECK(parse_host_selector("instance:p5.48xlarge").kind == HostSelector::Kind::instance);
    const HostSelector run = parse_host_selector("run:7");
    CHECK(run.kind == HostSelector::Kind::run);
    CHECK(run.run_id == 7);
    CHECK_THROWS_AS(parse_host_selector("run:x"), UsageError);
    CHECK_THROWS_AS(parse_host_selector("run:0"), UsageError);
    CHECK_THROWS_AS(parse_host_selector("cpu:x"), UsageError);
    CHECK_THROWS_AS(parse_host_selector("hostname:"), UsageError);
}

TEST_CASE("match_params drops only a whole-device placement", "[compare][model]") {
    CHECK(match_params({{"dtype", "f32"}, {"placement", "all_cores"}}) == "dtype=f32");
    CHECK(match_params({{"dtype", "f32"}, {"placement", "device"}}) == "dtype=f32");
    CHECK(match_params({{"dtype", "f32"}, {"placement", "one_core"}}) ==
          "dtype=f32,placement=one_core");
}

TEST_CASE("fixture: rows line CPU and GPU up, best backend per device", "[compare][model]") {
    const fs::path db = fixture_db("model_default.db");
    const CompareModel m = build(db);
    REQUIRE(m.hosts.size() == 2);
    CHECK(m.hosts[0].label == "gpu-host");
    CHECK(m.hosts[0].baseline);
    CHECK(m.hosts[1].label == "ai-cpu");
    CHECK(m.hosts[1].instance_type == "c8g.48xlarge");
    CHECK(m.lanes.size() == 3);  // gpu-host cpu, gpu-host cuda:0, ai-cpu cpu

    // gpu-host cpu vs ai-cpu cpu, and gpu-host cuda:0 vs ai-cpu cpu: both rows exist.
    const CompareRow* cpu_cpu = find_row(m, "gemm.square", kF32, "cpu", "cpu");
    const CompareRow* gpu_cpu = find_row(m, "gemm.square", kF32, "cuda:0", "cpu");
    REQUIRE(cpu_cpu != nullptr);
    REQUIRE(gpu_cpu != nullptr);
    CHECK(cpu_cpu->device_label == "cpu");
    CHECK(gpu_cpu->device_label == "cpu vs cuda:0");
    REQUIRE(cpu_cpu->cells.size() == 2);
    CHECK(cpu_cpu->cells[0].backend == "cpu.onednn");    // 5200 beats openblas' 4700
    CHECK(cpu_cpu->cells[1].backend == "cpu.openblas");  // 6100 beats blis' 5900
    CHECK(cpu_cpu->cells[0].unit == "GFLOP/s");
    CHECK_FALSE(cpu_cpu->cells[0].vs_baseline.has_value());
    REQUIRE(cpu_cpu->cells[1].vs_baseline.has_value());
    const RatioCi& r = *cpu_cpu->cells[1].vs_baseline;
    // Ratio of the headline medians exactly, CI around it.
    CHECK(r.ratio == Approx(cpu_cpu->cells[1].median / cpu_cpu->cells[0].median));
    CHECK(r.ratio > 1.1);
    CHECK(r.ci_low <= r.ratio);
    CHECK(r.ci_high >= r.ratio);
    CHECK(r.verdict == CompareVerdict::faster);
    REQUIRE(gpu_cpu->cells[1].vs_baseline.has_value());
    CHECK(gpu_cpu->cells[1].vs_baseline->ratio < 0.3);
    CHECK(gpu_cpu->cells[1].vs_baseline->verdict == CompareVerdict::slower);

    // Attention lines up across devices too (CPU placement=all_cores ignored).
    CHECK(find_row(m, "attention.prefill",
                   "batch=1,causal=true,dtype=bf16,head_dim=128,heads_kv=8,heads_q=32,"
                   "preset=llama3_8b,seq=2048",
                   "cuda:0", "cpu") != nullptr);

    // Lower-is-better latency: ratio > 1 means the other host is faster (lower ns).
    const CompareRow* lat = find_row(m, "mem.latency", "bytes=1073741824,pages=thp", "cpu", "cpu");
    REQUIRE(lat != nullptr);
    REQUIRE(lat->cells.size() == 2);
    CHECK_FALSE(lat->cells[1].higher_is_better);
    CHECK(lat->cells[1].vs_baseline->ratio == Approx(lat->cells[0].median / lat->cells[1].median));
    CHECK(lat->cells[1].vs_baseline->ratio > 1.0);  // 109 ns vs 118 ns

    // Family geometric means per compared pairing.
    bool gemm_cpu = false;
    for (const FamilySummary& f : m.families) {
        if (f.family == "gemm" && f.baseline_device == "cpu" && f.other_device == "cpu") {
            gemm_cpu = true;
            CHECK(f.host == 1);
            CHECK(f.rows == 2);  // f32 1024 and bf16 4096
            CHECK(f.geomean.ratio > 0);
            CHECK(f.geomean.ci_low <= f.geomean.ratio);
        }
    }
    CHECK(gemm_cpu);

    // One-sided: int8 GEMM only on ai-cpu; gpu.mem only on gpu-host.
    bool int8 = false, gpumem = false;
    for (const OneSidedCase& c : m.one_sided) {
        if (c.benchmark == "gemm.square" && c.params.find("s8s8s32") != std::string::npos) {
            int8 = true;
            CHECK(c.ran_on == std::vector<std::string>{"ai-cpu cpu"});
            CHECK(c.missing_on == std::vector<std::string>{"gpu-host"});
        }
        if (c.benchmark == "gpu.mem") {
            gpumem = true;
            CHECK(c.missing_on == std::vector<std::string>{"ai-cpu"});
        }
    }
    CHECK(int8);
    CHECK(gpumem);
    // A case only one side ran never becomes a row.
    for (const CompareRow& row : m.rows) {
        CHECK(row.benchmark != "gpu.mem");
        CHECK(row.cells.size() >= 2);
    }
}

TEST_CASE("fixture: baseline choice flips the pairing", "[compare][model]") {
    const fs::path db = fixture_db("model_baseline.db");
    CompareOptions o;
    o.baseline = parse_host_selector("hostname:ai-cpu");
    const CompareModel m = build(db, o);
    REQUIRE(m.hosts.size() == 2);
    CHECK(m.hosts[0].label == "ai-cpu");
    const CompareRow* cpu_gpu = find_row(m, "gemm.square", kBf16, "cpu", "cuda:0");
    const CompareRow* cpu_cpu = find_row(m, "gemm.square", kBf16, "cpu", "cpu");
    REQUIRE(cpu_gpu != nullptr);
    REQUIRE(cpu_cpu != nullptr);
    CHECK(cpu_gpu->device_label == "cuda:0 vs cpu");
    CHECK(cpu_gpu->cells[1].vs_baseline->verdict == CompareVerdict::faster);
    CHECK(cpu_gpu->cells[1].vs_baseline->ratio > 10);
}

TEST_CASE("fixture: host selection", "[compare][model]") {
    const fs::path db = fixture_db("model_select.db");
    CompareOptions o;
    o.hosts = {parse_host_selector("instance:c8g.48xlarge")};
    CompareModel m = build(db, o);
    REQUIRE(m.hosts.size() == 1);
    CHECK(m.hosts[0].label == "ai-cpu");
    CHECK(m.rows.empty());
    CHECK_FALSE(m.curves.empty());  // one host still gets its card and curves

    o.hosts = {parse_host_selector("fingerprint:" + m.hosts[0].fingerprint.substr(0, 8)),
               parse_host_selector("run:1")};
    m = build(db, o);
    REQUIRE(m.hosts.size() == 2);
    CHECK(m.hosts[0].label == "ai-cpu");
    CHECK(m.hosts[1].label == "gpu-host");

    o.hosts = {parse_host_selector("nosuchhost")};
    CHECK_THROWS_AS(build(db, o), UsageError);
    o.hosts = {};
    o.baseline = parse_host_selector("run:99");
    CHECK_THROWS_AS(build(db, o), UsageError);
    o.baseline.reset();
    o.family_regex = "([";
    CHECK_THROWS_AS(build(db, o), UsageError);
}

TEST_CASE("fixture: the same host in two stores is one host", "[compare][model]") {
    const fs::path db = fixture_db("model_two_a.db");
    const fs::path copy = fixture_db("model_two_b.db");
    Store a = Store::open(db, OpenMode::read_only);
    Store b = Store::open(copy, OpenMode::read_only);
    CompareOptions o;
    o.bootstrap_resamples = 200;
    const CompareModel m = build_compare_model({{&a, "a.db"}, {&b, "b.db"}}, o);
    CHECK(m.hosts.size() == 2);
    o.hosts = {parse_host_selector("run:1")};
    CHECK_THROWS_AS(build_compare_model({{&a, "a.db"}, {&b, "b.db"}}, o), UsageError);
}

TEST_CASE("fixture: family filter, curves, rooflines, efficiency, projections",
          "[compare][model]") {
    const fs::path db = fixture_db("model_parts.db");
    CompareOptions o;
    o.family_regex = "^gemm$";
    CompareModel m = build(db, o);
    REQUIRE_FALSE(m.rows.empty());
    for (const CompareRow& r : m.rows) {
        CHECK(r.family == "gemm");
    }
    CHECK(m.curves.empty());

    m = build(db);
    // Curves: bandwidth and latency per host, sorted, with levels; cache boundaries.
    int bandwidth = 0, latency = 0;
    for (const Curve& c : m.curves) {
        bandwidth += c.kind == "bandwidth";
        latency += c.kind == "latency";
        REQUIRE(c.points.size() >= 5);
        CHECK(std::is_sorted(c.points.begin(), c.points.end(),
                             [](const CurvePoint& x, const CurvePoint& y) {
                                 return x.working_set_bytes < y.working_set_bytes;
                             }));
        CHECK(c.points.front().level == "L1d");
        CHECK(c.points.back().level == "DRAM");
    }
    CHECK(bandwidth == 2);
    CHECK(latency == 2);
    CHECK(std::count_if(m.cache_boundaries.begin(), m.cache_boundaries.end(),
                        [](const CacheBoundary& b) { return b.host == 0; }) == 3);

    // Roofline of the GPU: bf16/f32 GEMM ceilings, its DRAM bandwidth, GEMM + attention points.
    const Roofline* gpu = nullptr;
    for (const Roofline& r : m.rooflines) {
        if (r.host == 0 && r.device == "cuda:0") {
            gpu = &r;
        }
    }
    REQUIRE(gpu != nullptr);
    CHECK(gpu->compute.size() == 2);
    REQUIRE(gpu->bandwidth.size() == 1);
    CHECK(gpu->bandwidth[0].name == "mem.bandwidth.dram.triad.device");
    CHECK(gpu->points.size() == 3);
    for (const RooflinePoint& p : gpu->points) {
        CHECK(p.arithmetic_intensity > 1);
        CHECK(p.gflop_per_s > 0);
    }
    // GEMM efficiency: the best result of each (device, dtype) is at its ceiling.
    bool at_ceiling = false;
    for (const GemmEfficiencyPoint& e : m.gemm_efficiency) {
        REQUIRE(e.fraction_of_ceiling.has_value());
        CHECK(*e.fraction_of_ceiling <= 1.0 + 1e-9);
        at_ceiling = at_ceiling || *e.fraction_of_ceiling > 1.0 - 1e-9;
    }
    CHECK(at_ceiling);

    // Projections: bf16 prefill on the GPU from gemm.bf16; no int8 ceiling on the GPU host.
    bool gpu_bf16 = false, gpu_int8_skipped = false, ai_int8 = false, too_big = false;
    for (const Projection& p : m.projections) {
        if (p.host == 0 && p.device == "cuda:0" && p.model == "Llama-3-8B" && p.weights == "bf16") {
            gpu_bf16 = true;
            REQUIRE(p.prefill_tokens_per_s.has_value());
            REQUIRE(p.decode_tokens_per_s.has_value());
            CHECK(p.prefill_ceiling.rfind("gemm.bf16 = ", 0) == 0);
            CHECK(p.decode_ceiling.rfind("mem.bandwidth.dram.triad.device = ", 0) == 0);
            // ~720 TFLOP/s / (2 * 8.03e9) ~ 4.5e4 tokens/s; ~3 TB/s / 16.6 GB ~ 180 tokens/s.
            CHECK(*p.prefill_tokens_per_s > 3e4);
            CHECK(*p.prefill_tokens_per_s < 5e4);
            CHECK(*p.decode_tokens_per_s > 150);
            CHECK(*p.decode_tokens_per_s < 200);
            CHECK(p.note.empty());
        }
        if (p.host == 0 && p.device == "cuda:0" && p.weights == "int8") {
            gpu_int8_skipped = gpu_int8_skipped || !p.prefill_tokens_per_s.has_value();
            CHECK_FALSE(p.prefill_skip.empty());
        }
        if (p.host == 1 && p.weights == "int8") {
            ai_int8 = ai_int8 || p.prefill_tokens_per_s.has_value();
        }
        if (p.host == 0 && p.device == "cuda:0" && p.model == "Llama-3-70B" &&
            p.weights == "bf16") {
            too_big = !p.note.empty();
        }
    }
    CHECK(gpu_bf16);
    CHECK(gpu_int8_skipped);
    CHECK(ai_int8);
    CHECK(too_big);
}

TEST_CASE("fixture: per-$ and per-W columns", "[compare][model]") {
    const fs::path db = fixture_db("model_price.db");
    const std::vector<PriceEntry> prices = parse_price_table(
        "[[price]]\nmatch = \"instance_type:p5.48xlarge\"\nusd_per_hour = 98.32\n"
        "date = \"2026-11-01\"\nsource = \"test\"\n",
        "inline");
    CompareOptions o;
    o.prices = &prices;
    const CompareModel m = build(db, o);
    CHECK(m.hosts[0].usd_per_hour == Approx(98.32));
    CHECK_FALSE(m.hosts[1].usd_per_hour.has_value());
    CHECK(m.hosts[1].price_source == "n/a (no price)");
    const CompareRow* row = find_row(m, "gemm.square", kF32, "cpu", "cpu");
    REQUIRE(row != nullptr);
    const CompareCell& base = row->cells[0];
    REQUIRE(base.per_dollar.has_value());
    CHECK(*base.per_dollar == Approx(base.median * 3600 / 98.32));
    CHECK(base.per_dollar_unit == "GFLOP/$");
    REQUIRE(base.power_w.has_value());  // the oneDNN result carries CPU package power
    REQUIRE(base.per_watt.has_value());
    CHECK(*base.per_watt == Approx(base.median / *base.power_w));
    CHECK(base.per_watt_unit == "GFLOP/J");
    const CompareCell& other = row->cells[1];
    CHECK_FALSE(other.per_dollar.has_value());
    CHECK(other.per_dollar_note == "n/a (no price)");
    // Latency is not a throughput: no per-$ figure, and it says why.
    const CompareRow* lat = find_row(m, "mem.latency", "bytes=16384,pages=thp", "cpu", "cpu");
    REQUIRE(lat != nullptr);
    CHECK(lat->cells[0].per_dollar_note == "n/a (not a throughput)");
    // A throughput without power telemetry says so.
    const CompareRow* sweep =
        find_row(m, "mem.sweep", "bytes=16384,kernel=sum,placement=one_core", "cpu", "cpu");
    REQUIRE(sweep != nullptr);
    CHECK(sweep->cells[0].per_watt_note == "n/a (no power telemetry)");
}
