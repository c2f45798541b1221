#include "core/change_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace assay {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
/// MAD -> standard deviation for normal data.
constexpr double kMadToSigma = 1.4826;

double mean_of(std::span<const double> v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double variance_of(std::span<const double> v, double mean) {
    double ss = 0;
    for (double x : v) {
        ss += (x - mean) * (x - mean);
    }
    return ss / static_cast<double>(v.size() - 1);
}

/// Continued fraction of the regularized incomplete beta (modified Lentz).
double beta_cf(double a, double b, double x) {
    constexpr int kMaxIter = 300;
    constexpr double kEps = 1e-15;
    constexpr double kTiny = 1e-300;
    const double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (std::abs(d) < kTiny)
        d = kTiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= kMaxIter; ++m) {
        const double md = m, m2 = 2 * md;
        double aa = md * (b - md) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (std::abs(d) < kTiny)
            d = kTiny;
        c = 1 + aa / c;
        if (std::abs(c) < kTiny)
            c = kTiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + md) * (qab + md) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (std::abs(d) < kTiny)
            d = kTiny;
        c = 1 + aa / c;
        if (std::abs(c) < kTiny)
            c = kTiny;
        d = 1 / d;
        const double del = d * c;
        h *= del;
        if (std::abs(del - 1) < kEps)
            break;
    }
    return h;
}

/// Regularized incomplete beta I_x(a, b).
double incomplete_beta(double a, double b, double x) {
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    const double ln_front =
        std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
    const double front = std::exp(ln_front);
    if (x < (a + 1) / (a + b + 2)) {
        return front * beta_cf(a, b, x) / a;
    }
    return 1 - front * beta_cf(b, a, 1 - x) / b;
}

/// E-divisive statistic Q(tau) for every split of y; q[tau] for tau in [lo, hi], others -inf.
/// O(m^2) with running sums of the within-segment distances.
std::vector<double> e_divisive_q(std::span<const double> y, std::size_t min_segment) {
    const std::size_t m = y.size();
    std::vector<double> q(m + 1, -std::numeric_limits<double>::infinity());
    // within_left[t] = sum_{i<k<t} |y_i - y_k|; to_left[t] = sum_{i<t} |y_i - y_t|.
    std::vector<double> within_left(m + 1, 0.0);
    double total = 0;
    std::vector<double> to_right(m, 0.0);  // sum_{k>t} |y_t - y_k|
    for (std::size_t t = 0; t < m; ++t) {
        double to_left = 0;
        for (std::size_t i = 0; i < t; ++i) {
            const double dist = std::abs(y[i] - y[t]);
            to_left += dist;
            to_right[i] += dist;
        }
        within_left[t + 1] = within_left[t] + to_left;
        total += to_left;
    }
    double within_right = total;  // sum over pairs in [t, m)
    for (std::size_t t = 0; t <= m; ++t) {
        if (t > 0) {
            within_right -= to_right[t - 1];
        }
        if (t < min_segment || m - t < min_segment) {
            continue;
        }
        const double nl = static_cast<double>(t), nr = static_cast<double>(m - t);
        const double cross = total - within_left[t] - within_right;
        const double e = 2 * cross / (nl * nr) - within_left[t] / (nl * (nl - 1) / 2) -
                         within_right / (nr * (nr - 1) / 2);
        q[t] = nl * nr / static_cast<double>(m) * e;
    }
    return q;
}

void split_recursive(std::span<const double> x, std::size_t a, std::size_t b,
                     const ChangePointOptions& o, std::vector<std::size_t>& out) {
    if (b - a < 2 * o.min_segment) {
        return;
    }
    const auto q = e_divisive_q(x.subspan(a, b - a), o.min_segment);
    const auto best = static_cast<std::size_t>(std::max_element(q.begin(), q.end()) - q.begin());
    if (!std::isfinite(q[best]) || q[best] <= 0) {
        return;
    }
    const std::size_t tau = a + best;
    const auto test = welch_t_test(x.subspan(a, tau - a), x.subspan(tau, b - tau));
    if (test.p_two_sided >= o.max_pvalue) {
        return;
    }
    out.push_back(tau);
    split_recursive(x, a, tau, o, out);
    split_recursive(x, tau, b, o, out);
}

ChangePoint describe(std::span<const double> x, std::size_t prev, std::size_t cp, std::size_t next,
                     std::size_t window) {
    const std::size_t lo = std::max(prev, cp > window ? cp - window : 0);
    const std::size_t hi = std::min(next, cp + window);
    const auto before = x.subspan(lo, cp - lo);
    const auto after = x.subspan(cp, hi - cp);
    ChangePoint c;
    c.index = cp;
    c.mean_before = mean_of(before);
    c.mean_after = mean_of(after);
    c.relative_change =
        c.mean_before != 0 ? (c.mean_after - c.mean_before) / std::abs(c.mean_before) : 0;
    c.pvalue = welch_t_test(before, after).p_two_sided;
    return c;
}

bool beyond_gate(const RobustZ& r, const GateOptions& o) {
    return std::abs(r.z) >= o.z && std::abs(r.relative_change) >= o.min_effect;
}

int sign_of(double v) {
    return v > 0 ? 1 : (v < 0 ? -1 : 0);
}

bool is_bad(int sign, Direction d) {
    return (d == Direction::higher_is_better && sign < 0) ||
           (d == Direction::lower_is_better && sign > 0);
}

}  // namespace

double median_of(std::span<const double> values) {
    if (values.empty()) {
        return kNaN;
    }
    std::vector<double> v(values.begin(), values.end());
    const std::size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
    const double hi = v[mid];
    if (v.size() % 2 == 1) {
        return hi;
    }
    const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
    return (lo + hi) / 2;
}

double mad_of(std::span<const double> values) {
    if (values.empty()) {
        return kNaN;
    }
    const double med = median_of(values);
    std::vector<double> dev;
    dev.reserve(values.size());
    for (double x : values) {
        dev.push_back(std::abs(x - med));
    }
    return median_of(dev);
}

RobustZ robust_z(std::span<const double> baseline, double x) {
    RobustZ r;
    r.median = median_of(baseline);
    r.scale = std::max(kMadToSigma * mad_of(baseline), 1e-9 * std::abs(r.median));
    const double diff = x - r.median;
    if (r.scale > 0) {
        r.z = diff / r.scale;
    } else {
        // Constant zero baseline: any departure is infinitely many "sigmas" away.
        r.z = diff == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(), diff);
    }
    r.relative_change = r.median != 0 ? diff / std::abs(r.median) : 0;
    return r;
}

double student_t_sf(double t, double df) {
    if (std::isnan(t) || !(df > 0)) {
        return kNaN;
    }
    if (std::isinf(t)) {
        return t > 0 ? 0 : 1;
    }
    const double tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t));
    return t >= 0 ? tail : 1 - tail;
}

WelchTest welch_t_test(std::span<const double> a, std::span<const double> b) {
    WelchTest w;
    if (a.size() < 2 || b.size() < 2) {
        return w;
    }
    const double ma = mean_of(a), mb = mean_of(b);
    const double va = variance_of(a, ma) / static_cast<double>(a.size());
    const double vb = variance_of(b, mb) / static_cast<double>(b.size());
    const double se2 = va + vb;
    if (se2 <= 0) {
        w.t = ma == mb ? 0 : std::copysign(std::numeric_limits<double>::infinity(), mb - ma);
        w.df = static_cast<double>(a.size() + b.size() - 2);
        w.p_two_sided = ma == mb ? 1 : 0;
        return w;
    }
    w.t = (mb - ma) / std::sqrt(se2);
    const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
    const double denom = va * va / (na - 1) + vb * vb / (nb - 1);
    w.df = denom > 0 ? se2 * se2 / denom : na + nb - 2;
    w.p_two_sided = std::min(1.0, 2 * student_t_sf(std::abs(w.t), w.df));
    return w;
}

std::vector<double> benjamini_hochberg(std::span<const double> p) {
    const std::size_t m = p.size();
    std::vector<std::size_t> order(m);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t i, std::size_t j) { return p[i] < p[j]; });
    std::vector<double> adjusted(m, 1.0);
    double running_min = 1.0;
    for (std::size_t k = m; k-- > 0;) {
        const std::size_t i = order[k];
        const double v = p[i] * static_cast<double>(m) / static_cast<double>(k + 1);
        running_min = std::min(running_min, v);
        adjusted[i] = std::min(1.0, running_min);
    }
    return adjusted;
}

std::vector<ChangePoint> e_divisive_change_points(std::span<const double> x,
                                                  const ChangePointOptions& options) {
    ChangePointOptions o = options;
    o.min_segment = std::max<std::size_t>(o.min_segment, 2);
    o.window = std::max(o.window, 2 * o.min_segment);
    const std::size_t n = x.size();
    std::vector<std::size_t> candidates;
    const std::size_t step = std::max<std::size_t>(o.window / 2, 1);
    for (std::size_t start = 0; start < n; start += step) {
        const std::size_t end = std::min(n, start + o.window);
        split_recursive(x, start, end, o, candidates);
        if (end == n) {
            break;
        }
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

    // Overlapping windows propose the same step at nearby indices: keep the best-separated one
    // (smallest p) of every cluster closer than min_segment, then drop the weakest change point
    // until every remaining one is significant against its neighbours.
    std::vector<std::size_t> cps;
    for (std::size_t c : candidates) {
        if (!cps.empty() && c - cps.back() < o.min_segment) {
            const std::size_t prev_start = cps.size() >= 2 ? cps[cps.size() - 2] : 0;
            const double p_old = describe(x, prev_start, cps.back(), n, o.window).pvalue;
            const double p_new = describe(x, prev_start, c, n, o.window).pvalue;
            if (p_new < p_old) {
                cps.back() = c;
            }
            continue;
        }
        cps.push_back(c);
    }
    while (true) {
        std::vector<ChangePoint> described;
        for (std::size_t k = 0; k < cps.size(); ++k) {
            const std::size_t prev = k == 0 ? 0 : cps[k - 1];
            const std::size_t next = k + 1 == cps.size() ? n : cps[k + 1];
            described.push_back(describe(x, prev, cps[k], next, o.window));
        }
        std::size_t worst = cps.size();
        double worst_p = o.max_pvalue;
        for (std::size_t k = 0; k < described.size(); ++k) {
            const std::size_t prev = k == 0 ? 0 : cps[k - 1];
            const std::size_t next = k + 1 == cps.size() ? n : cps[k + 1];
            const bool too_short = cps[k] - prev < o.min_segment || next - cps[k] < o.min_segment;
            const double p = too_short ? 2.0 : described[k].pvalue;
            if (p >= worst_p) {
                worst_p = p;
                worst = k;
            }
        }
        if (worst == cps.size()) {
            return described;
        }
        cps.erase(cps.begin() + static_cast<std::ptrdiff_t>(worst));
    }
}

const char* to_string(GateState s) {
    switch (s) {
        case GateState::insufficient_history:
            return "insufficient_history";
        case GateState::normal:
            return "normal";
        case GateState::suspect:
            return "suspect";
        case GateState::confirmed:
            return "confirmed";
    }
    return "?";
}

GateResult gate_newest(std::span<const double> segment, Direction direction, const GateOptions& o) {
    GateResult g;
    const std::size_t n = segment.size();
    const std::size_t min_history = std::max<std::size_t>(o.min_history, 2);
    auto baseline_before = [&](std::size_t index) {
        const std::size_t lo = index > o.window ? index - o.window : 0;
        return segment.subspan(lo, index - lo);
    };
    // p-values for Benjamini-Hochberg. A MAD scale is as uncertain as a standard deviation
    // from ~37 % as many points (its efficiency at the normal), and the baseline median adds
    // pi/2 * sigma^2 / n of variance to every point's distance from it (shared by both points
    // of a pair), so z is deflated by that and compared to Student t with the effective df.
    auto pvalue_of = [](double z, std::size_t baseline_size, double points) {
        const double size = static_cast<double>(std::max<std::size_t>(baseline_size, 2));
        const double df = std::max(1.0, 0.37 * (size - 1));
        const double inflation = std::sqrt(1 + points * 1.5708 / size);
        return student_t_sf(std::abs(z) / inflation, df);
    };
    if (n == 0 || n - 1 < min_history) {
        g.baseline_size = n == 0 ? 0 : n - 1;
        if (n > 1) {
            g.newest = robust_z(segment.first(n - 1), segment[n - 1]);
        }
        return g;
    }
    const auto base = baseline_before(n - 1);
    g.newest = robust_z(base, segment[n - 1]);
    g.baseline_size = base.size();
    g.pvalue = pvalue_of(g.newest.z, base.size(), 1);
    g.change_index = n - 1;
    g.state = GateState::normal;

    if (n - 2 >= min_history) {
        // Confirmation pools the evidence of the newest two points, both judged against the
        // baseline before the first of them (so the first bad night cannot contaminate it):
        // each must lean the same way (|z| >= z/2: a fluke rarely does twice) and together
        // they must pass the gate: (z1 + z2) / sqrt(2) >= z and mean effect >= min_effect.
        const auto base2 = baseline_before(n - 2);
        const RobustZ prev = robust_z(base2, segment[n - 2]);
        const RobustZ last = robust_z(base2, segment[n - 1]);
        const double pooled_z = (prev.z + last.z) / std::sqrt(2.0);
        const double pooled_effect = (prev.relative_change + last.relative_change) / 2;
        const int s = sign_of(pooled_z);
        if (s != 0 && sign_of(prev.z) == s && sign_of(last.z) == s && std::abs(prev.z) >= o.z / 2 &&
            std::abs(last.z) >= o.z / 2 && std::abs(pooled_z) >= o.z &&
            std::abs(pooled_effect) >= o.min_effect) {
            g.state = GateState::confirmed;
            g.sign = s;
            g.bad = is_bad(s, direction);
            g.newest = last;
            g.baseline_size = base2.size();
            g.change_index = n - 2;
            g.pvalue = pvalue_of(pooled_z, base2.size(), 2);
            return g;
        }
    }
    if (beyond_gate(g.newest, o)) {
        g.state = GateState::suspect;
        g.sign = sign_of(g.newest.z);
        g.bad = is_bad(g.sign, direction);
    }
    return g;
}

}  // namespace assay
