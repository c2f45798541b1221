// A tiny Google Benchmark program whose JSON output the import tests read (the committed
// fixtures under data/ came from it): positional and named args, repetitions, threads,
// real-time mode, bytes/s, a plain counter and a rate counter.
#include <benchmark/benchmark.h>

#include <numeric>
#include <vector>

static void BM_sum(benchmark::State& state) {
    std::vector<double> v(static_cast<std::size_t>(state.range(0)), 1.0);
    for (auto _ : state) {
        benchmark::DoNotOptimize(std::accumulate(v.begin(), v.end(), 0.0));
    }
    state.SetBytesProcessed(state.iterations() * state.range(0) * 8);
    state.counters["elements"] = static_cast<double>(state.range(0));
    state.counters["sums"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_sum)->Arg(64)->Arg(4096)->Repetitions(3);

static void BM_pair(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(state.range(0) + state.range(1));
    }
}
BENCHMARK(BM_pair)->ArgNames({"m", "n"})->Args({2, 3})->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
