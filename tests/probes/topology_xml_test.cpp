// probe_host() on real machines' hwloc XML files: counts, caches, accelerators, errors.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "probes/probe.hpp"
#include "test_support.hpp"

namespace {

using assay::HostInfo;
using assay::ProbeOptions;

struct Expected {
    const char* file;
    unsigned packages;
    unsigned numa_nodes;
    unsigned cores;
    unsigned pus;
    std::uint64_t l2_bytes;  // size of one instance (largest where they differ); 0 = no L2
    unsigned l2_count;
    std::uint64_t l3_bytes;  // 0 = no L3
    unsigned l3_count;
    unsigned accelerators;
};

// Obtained independently of the probe code:
//   counts:  hwloc-calc --input FILE -N {package,numanode,core,pu,l2cache,l3cache} all
//            and hwloc-info --input FILE (for CPU-less NUMA nodes: none in these files);
//   sizes:   python xml.etree over FILE, cache_size attribute of L2Cache/L3Cache objects;
//   accelerators: python over PCIDev pci_type "CCSS [VVVV:DDDD]": class 0302/1200/0b40, or
//            0300/0380 from NVIDIA/AMD (not the ATI ES1000 BMC chip 1002:515e) or with
//            unreadable ids 0000:0000 (the POWER9 V100 snapshot). Matrox/ASPEED BMCs excluded.
// nvidia-dgx-gb10.xml has two core clusters (10 x 512 KiB L2 + 10 x 2 MiB L2, 8 + 16 MiB L3)
// and carries no I/O objects at all, so no GPU is visible in it.
constexpr Expected kTable[] = {
    {"128arm-2pa2n8cluster4co.xml", 2, 4, 128, 128, 524288, 128, 33554432, 4, 0},
    {"16amd64-4distances.xml", 8, 8, 16, 16, 1048576, 16, 0, 0, 0},
    {"192em64t-24n8c2t.xml", 24, 24, 192, 384, 262144, 192, 20971520, 24, 0},
    {"32em64t-2n8c+dax+nvme+mic+dimms.xml", 2, 2, 16, 16, 262144, 16, 20971520, 2, 1},
    {"40intel64-2g2n4c+pcilocality.xml", 4, 4, 40, 40, 262144, 40, 31457280, 4, 0},
    {"64amd64-4s2n4ca2co.xml", 4, 8, 64, 64, 2097152, 32, 6291456, 8, 0},
    {"96em64t-4n4d3ca2co-pci.xml", 16, 4, 96, 96, 3145728, 48, 16777216, 16, 0},
    {"96em64t-4no4pa3ca2co.xml", 16, 4, 96, 96, 3145728, 48, 16777216, 16, 0},
    {"kvm-2core-spr-amx.xml", 1, 1, 2, 2, 2097152, 2, 503316480, 1, 0},
    {"nvidia-dgx-gb10.xml", 1, 1, 20, 20, 2097152, 20, 16777216, 2, 0},
    {"nvidiagpunumanodes.xml", 2, 2, 8, 32, 524288, 4, 10485760, 4, 6},
    {"power8gpudistances.xml", 2, 2, 8, 16, 0, 0, 8388608, 8, 4},
};

HostInfo probe_xml(const std::string& name) {
    ProbeOptions options;
    options.topology_xml = assay::test::topology(name);
    return assay::probe_host(options);
}

const assay::CacheLevel* find_cache(const HostInfo& host, int level) {
    for (const auto& c : host.topology.caches) {
        if (c.level == level && c.type != "instruction") {
            return &c;
        }
    }
    return nullptr;
}

}  // namespace

TEST_CASE("every topology XML in ASSAY_TOPOLOGY_DIR is in the expectation table",
          "[probes][topology]") {
    const auto dir = assay::test::topology_dir();
    std::set<std::string> on_disk;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".xml") {
            on_disk.insert(entry.path().filename().string());
        }
    }
    std::set<std::string> in_table;
    for (const auto& e : kTable) {
        in_table.insert(e.file);
    }
    CHECK(on_disk == in_table);
}

TEST_CASE("topology XML files give the expected counts, caches and accelerators",
          "[probes][topology]") {
    for (const auto& e : kTable) {
        SECTION(e.file) {
            const HostInfo host = probe_xml(e.file);
            const auto& t = host.topology;
            CHECK(t.source ==
                  std::string("xml:") + (assay::test::topology_dir() / e.file).string());
            CHECK(t.packages == e.packages);
            CHECK(t.numa_nodes.size() == e.numa_nodes);
            CHECK(t.cores == e.cores);
            CHECK(t.pus == e.pus);
            CHECK(t.core_list.size() == e.cores);
            CHECK(t.max_pus_per_core == e.pus / e.cores);
            unsigned pu_total = 0;
            for (const auto& core : t.core_list) {
                pu_total += static_cast<unsigned>(core.pu_os_indices.size());
                CHECK(core.package < e.packages);
            }
            CHECK(pu_total == e.pus);

            const auto* l2 = find_cache(host, 2);
            if (e.l2_bytes == 0) {
                CHECK(l2 == nullptr);
            } else {
                REQUIRE(l2 != nullptr);
                CHECK(l2->size_bytes == e.l2_bytes);
                CHECK(l2->instances == e.l2_count);
            }
            const auto* l3 = find_cache(host, 3);
            if (e.l3_bytes == 0) {
                CHECK(l3 == nullptr);
            } else {
                REQUIRE(l3 != nullptr);
                CHECK(l3->size_bytes == e.l3_bytes);
                CHECK(l3->instances == e.l3_count);
            }
            CHECK(t.accelerators.size() == e.accelerators);

            std::uint64_t sum = 0;
            for (const auto& n : t.numa_nodes) {
                sum += n.local_memory_bytes;
            }
            CHECK(t.numa_memory_bytes == sum);
            // XML input: nothing from this host leaks in.
            CHECK_FALSE(t.os_memory_bytes.has_value());
            CHECK(host.cpu.isa_features.empty());
            CHECK(host.cpu.isa_source == "not available: topology loaded from XML");
            CHECK(host.os.kernel == "not available: topology loaded from XML");
            CHECK(host.gpu.gpus.empty());
            CHECK_FALSE(host.gpu.none_reason.empty());
            CHECK(host.identity.machine_id.empty());
            CHECK(host.fingerprint.size() == 64);
        }
    }
}

TEST_CASE("the KVM guest XML matches the machine it was taken on", "[probes][topology]") {
    const HostInfo host = probe_xml("kvm-2core-spr-amx.xml");
    const auto& t = host.topology;
    REQUIRE(t.numa_nodes.size() == 1);
    CHECK(t.numa_nodes[0].pu_os_indices == std::vector<unsigned>{0, 1});
    REQUIRE(t.core_list.size() == 2);
    CHECK(t.core_list[0].pu_os_indices == std::vector<unsigned>{0});
    CHECK(t.core_list[1].pu_os_indices == std::vector<unsigned>{1});
    CHECK(t.core_list[1].numa_node == std::optional<unsigned>(0));
    const auto* llc = t.last_level_cache();
    REQUIRE(llc != nullptr);
    CHECK(llc->level == 3);
    CHECK(llc->size_bytes == 480ULL * 1024 * 1024);
    CHECK(llc->pus_per_instance == 2);
    CHECK(llc->cores_per_instance == 2);
    // Caches come ordered by level then data/instruction/unified: L1d, L1i, L2, L3.
    REQUIRE(t.caches.size() == 4);
    CHECK(t.caches[0].name() == "L1d");
    CHECK(t.caches[0].size_bytes == 48 * 1024);
    CHECK(t.caches[0].line_bytes == 64);
    CHECK(t.caches[0].associativity == 12);
    CHECK(t.caches[1].name() == "L1i");
    CHECK(t.caches[2].name() == "L2");
    CHECK(t.caches[2].cores_per_instance == 1);
    // The XML's Package info describes the CPU it was exported on.
    CHECK(host.cpu.vendor == "GenuineIntel");
    CHECK(host.cpu.family == std::optional<unsigned>(6));
    CHECK(host.cpu.model == std::optional<unsigned>(167));
    CHECK_FALSE(host.cpu.model_name.empty());
}

TEST_CASE("GPU topologies expose their GPUs with NUMA locality", "[probes][topology][gpu]") {
    SECTION("POWER8 with 4 Tesla P100") {
        const HostInfo host = probe_xml("power8gpudistances.xml");
        const auto& accs = host.topology.accelerators;
        REQUIRE(accs.size() == 4);
        std::map<std::string, std::vector<unsigned>> by_bus;
        for (const auto& a : accs) {
            by_bus[a.pci_bus_id] = a.numa_nodes;
            CHECK(a.vendor_id == 0x10de);
            CHECK(a.device_id == 0x15f9);
            CHECK(a.class_id == 0x0302);
            CHECK(a.model == "Tesla P100-SXM2-16GB");
            CHECK(std::any_of(a.os_devices.begin(), a.os_devices.end(),
                              [](const std::string& d) { return d.rfind("cuda", 0) == 0; }));
        }
        CHECK(by_bus["0002:01:00.0"] == std::vector<unsigned>{0});
        CHECK(by_bus["0003:01:00.0"] == std::vector<unsigned>{0});
        CHECK(by_bus["000a:01:00.0"] == std::vector<unsigned>{1});
        CHECK(by_bus["000b:01:00.0"] == std::vector<unsigned>{1});
    }
    SECTION("POWER9 with 6 GPUs whose PCI ids were unreadable") {
        const HostInfo host = probe_xml("nvidiagpunumanodes.xml");
        std::map<unsigned, int> per_node;
        for (const auto& a : host.topology.accelerators) {
            REQUIRE(a.numa_nodes.size() == 1);
            ++per_node[a.numa_nodes[0]];
        }
        CHECK(per_node == std::map<unsigned, int>{{0, 3}, {8, 3}});
    }
    SECTION("Xeon Phi co-processor next to NUMA node 1") {
        const HostInfo host = probe_xml("32em64t-2n8c+dax+nvme+mic+dimms.xml");
        REQUIRE(host.topology.accelerators.size() == 1);
        const auto& phi = host.topology.accelerators[0];
        CHECK(phi.pci_bus_id == "0000:83:00.0");
        CHECK(phi.class_id == 0x0b40);
        CHECK(phi.numa_nodes == std::vector<unsigned>{1});
    }
    SECTION("BMC graphics are not GPUs") {
        for (const char* file : {"192em64t-24n8c2t.xml", "40intel64-2g2n4c+pcilocality.xml",
                                 "96em64t-4n4d3ca2co-pci.xml"}) {
            INFO(file);
            CHECK(probe_xml(file).topology.accelerators.empty());
        }
    }
}

TEST_CASE("missing, unreadable and garbage topology XML throw InputError", "[probes][topology]") {
    const auto dir = assay::test::scratch_dir("bad_xml");
    ProbeOptions options;
    options.query_gpus = false;

    options.topology_xml = dir / "does-not-exist.xml";
    CHECK_THROWS_AS(assay::probe_host(options), assay::InputError);
    CHECK_THROWS_WITH(assay::probe_host(options), Catch::Contains("cannot load topology XML") &&
                                                      Catch::Contains("does-not-exist.xml"));

    options.topology_xml = dir;  // a directory
    CHECK_THROWS_AS(assay::probe_host(options), assay::InputError);

    const auto empty = dir / "empty.xml";
    std::ofstream(empty).close();
    options.topology_xml = empty;
    CHECK_THROWS_AS(assay::probe_host(options), assay::InputError);

    const auto garbage = dir / "garbage.xml";
    std::ofstream(garbage) << "this is not <xml at all";
    options.topology_xml = garbage;
    CHECK_THROWS_AS(assay::probe_host(options), assay::InputError);

    const auto wrong_xml = dir / "wrong.xml";
    std::ofstream(wrong_xml) << "<?xml version=\"1.0\"?>\n<html><body>hello</body></html>\n";
    options.topology_xml = wrong_xml;
    CHECK_THROWS_AS(assay::probe_host(options), assay::InputError);

    const auto unreadable = dir / "unreadable.xml";
    std::ofstream(unreadable) << "<topology/>";
    std::filesystem::permissions(unreadable, std::filesystem::perms::none);
    options.topology_xml = unreadable;
    // root ignores permissions; then hwloc gets a bogus document and must still be rejected.
    CHECK_THROWS_AS(assay::probe_host(options), assay::InputError);
    std::filesystem::permissions(unreadable, std::filesystem::perms::owner_all);
}

TEST_CASE("x86 identity leaked into non-x86 XML files is not reported", "[probes][topology]") {
    // These files were exported on an x86 host, whose cpuid identity hwloc added to the Packages
    // (grep CPUVendor in the files); the machines themselves are POWER and Arm.
    const HostInfo power9 = probe_xml("nvidiagpunumanodes.xml");
    CHECK(power9.cpu.arch == "ppc64le");
    CHECK(power9.cpu.vendor.empty());
    CHECK_FALSE(power9.cpu.family.has_value());
    CHECK(power9.cpu.model_name == "POWER9, altivec supported");
    CHECK(power9.identity.hostname == "c685f8n02");

    const HostInfo arm = probe_xml("128arm-2pa2n8cluster4co.xml");
    CHECK(arm.cpu.arch == "aarch64");
    CHECK(arm.cpu.vendor.empty());
    CHECK(arm.cpu.model_name.empty());

    const HostInfo gb10 = probe_xml("nvidia-dgx-gb10.xml");
    CHECK(gb10.identity.product_name == "NVIDIA_DGX_Spark");
    CHECK(gb10.identity.system_vendor == "NVIDIA");
    CHECK(gb10.identity.bios_version == "5.36_0ACUM018");
}
