#pragma once
// Synthetic runs for the qualify/fleet tests, and a minimal strict XML reader to check the JUnit
// output is well-formed (balanced tags, quoted attributes, only the five predefined entities, no
// raw '<' or '&' in text, no forbidden control characters).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/run_info.hpp"
#include "core/stats.hpp"
#include "reports/run_report.hpp"

namespace assay::test {

/// A STREAM-triad-like result on `device` whose per-sample bandwidths are `gb_per_s` (1 GB moved
/// per execution, so each sample takes 1 / gb_per_s seconds).
inline StoredResult bandwidth_result(std::int64_t id, const std::string& device,
                                     const std::vector<double>& gb_per_s) {
    StoredResult sr;
    sr.id = id;
    sr.run_id = 1;
    Result& r = sr.result;
    r.bench_case = {"stream.triad",
                    {{"dtype", "f64"}, {"placement", "all_cores"}, {"size", "dram"}}};
    r.device = device;
    r.backend = device == "cpu" ? "cpu.native" : "cuda";
    r.status = ResultStatus::ok;
    r.verified = true;
    for (double g : gb_per_s) {
        r.samples.push_back(1.0 / g);
    }
    r.stats = summarize(r.samples);
    if (!r.samples.empty()) {
        r.metrics = {
            {"bandwidth_stream_gb_per_s.best", 1.0 / r.stats.min, "GB/s",
             Direction::higher_is_better},
            {"bandwidth_stream_gb_per_s.median", 1.0 / r.stats.median, "GB/s",
             Direction::higher_is_better},
            {"threads", 2, "threads", Direction::none},
        };
    }
    return sr;
}

/// A pointer-chase latency result (1e6 dependent loads per execution) with per-sample latencies.
inline StoredResult latency_result(std::int64_t id, const std::vector<double>& ns) {
    StoredResult sr;
    sr.id = id;
    sr.run_id = 1;
    Result& r = sr.result;
    r.bench_case = {"mem.latency", {{"bytes", "134217728"}, {"pages", "thp"}}};
    r.device = "cpu";
    r.backend = "cpu.native";
    r.status = ResultStatus::ok;
    r.verified = true;
    constexpr double kLoads = 1e6;
    for (double v : ns) {
        r.samples.push_back(v * 1e-9 * kLoads);
    }
    r.stats = summarize(r.samples);
    r.metrics = {
        {"latency_ns.best", r.stats.min / kLoads * 1e9, "ns", Direction::lower_is_better},
        {"latency_ns.median", r.stats.median / kLoads * 1e9, "ns", Direction::lower_is_better},
    };
    return sr;
}

inline RunWithResults make_run(const std::string& host, std::int64_t run_id,
                               std::vector<StoredResult> results) {
    RunWithResults rw;
    rw.run.id = run_id;
    rw.run.hostname = host;
    rw.run.host_id = run_id;
    rw.run.fingerprint = "f00d" + std::to_string(run_id);
    rw.run.status = RunStatus::complete;
    rw.run.info.started_at = "2026-11-25T00:00:00.000Z";
    rw.run.info.suite = "quick";
    for (auto& r : results) {
        r.run_id = run_id;
    }
    rw.results = std::move(results);
    return rw;
}

struct XmlElement {
    std::string name;
    std::map<std::string, std::string> attributes;
    std::vector<XmlElement> children;
    std::string text;
    std::string attr(const std::string& k) const {
        auto it = attributes.find(k);
        return it == attributes.end() ? std::string("(missing)") : it->second;
    }
};

struct XmlDocument {
    bool ok = false;
    std::string error;
    XmlElement root;
};

class XmlReader {
  public:
    explicit XmlReader(const std::string& s) : s_(s) {}

    XmlDocument parse() {
        XmlDocument doc;
        try {
            skip_ws();
            if (s_.compare(pos_, 5, "<?xml") == 0) {
                const auto end = s_.find("?>", pos_);
                if (end == std::string::npos)
                    fail("unterminated prolog");
                pos_ = end + 2;
            }
            skip_ws();
            doc.root = element();
            skip_ws();
            if (pos_ != s_.size())
                fail("content after the root element");
            doc.ok = true;
        } catch (const std::string& e) {
            doc.error = e;
        }
        return doc;
    }

  private:
    [[noreturn]] void fail(const std::string& why) {
        throw why + " at offset " + std::to_string(pos_);
    }
    void skip_ws() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r'))
            ++pos_;
    }
    static bool name_char(char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' ||
               c == ':' || c == '.';
    }
    std::string name() {
        const std::size_t start = pos_;
        while (pos_ < s_.size() && name_char(s_[pos_]))
            ++pos_;
        if (pos_ == start)
            fail("expected a name");
        return s_.substr(start, pos_ - start);
    }
    std::string decode(const std::string& raw) {
        std::string out;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            const auto u = static_cast<unsigned char>(raw[i]);
            if (u < 0x20 && raw[i] != '\t' && raw[i] != '\n' && raw[i] != '\r')
                fail("forbidden control character");
            if (raw[i] == '<')
                fail("raw '<' in text");
            if (raw[i] != '&') {
                out += raw[i];
                continue;
            }
            const auto semi = raw.find(';', i);
            if (semi == std::string::npos)
                fail("unterminated entity");
            const std::string ent = raw.substr(i + 1, semi - i - 1);
            static const std::map<std::string, char> kEntities = {
                {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
            auto it = kEntities.find(ent);
            if (it == kEntities.end())
                fail("unknown entity &" + ent + ";");
            out += it->second;
            i = semi;
        }
        return out;
    }
    XmlElement element() {
        if (pos_ >= s_.size() || s_[pos_] != '<')
            fail("expected '<'");
        ++pos_;
        XmlElement e;
        e.name = name();
        for (;;) {
            skip_ws();
            if (pos_ >= s_.size())
                fail("unterminated start tag");
            if (s_.compare(pos_, 2, "/>") == 0) {
                pos_ += 2;
                return e;
            }
            if (s_[pos_] == '>') {
                ++pos_;
                break;
            }
            const std::string key = name();
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != '=')
                fail("expected '=' after attribute " + key);
            ++pos_;
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != '"')
                fail("attribute value must be double-quoted");
            const auto end = s_.find('"', pos_ + 1);
            if (end == std::string::npos)
                fail("unterminated attribute value");
            if (e.attributes.count(key) != 0)
                fail("duplicate attribute " + key);
            e.attributes[key] = decode(s_.substr(pos_ + 1, end - pos_ - 1));
            pos_ = end + 1;
        }
        for (;;) {
            const auto lt = s_.find('<', pos_);
            if (lt == std::string::npos)
                fail("unterminated element " + e.name);
            e.text += decode(s_.substr(pos_, lt - pos_));
            pos_ = lt;
            if (s_.compare(pos_, 2, "</") == 0) {
                pos_ += 2;
                if (name() != e.name)
                    fail("mismatched end tag for " + e.name);
                skip_ws();
                if (pos_ >= s_.size() || s_[pos_] != '>')
                    fail("expected '>'");
                ++pos_;
                return e;
            }
            e.children.push_back(element());
        }
    }

    const std::string& s_;
    std::size_t pos_ = 0;
};

inline XmlDocument parse_xml(const std::string& text) {
    return XmlReader(text).parse();
}

}  // namespace assay::test
