// assay probe: what is this host?
#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "core/host_info.hpp"
#include "probes/probe.hpp"
#include "reports/host_summary.hpp"

namespace assay::cli {

Action add_probe_command(CLI::App& app) {
    struct Opts {
        bool json = false;
        bool no_gpu = false;
        std::string topology_xml;
        std::string output;
    };
    auto opts = std::make_shared<Opts>();
    auto* cmd =
        app.add_subcommand("probe", "Probe this host: topology, caches, ISA, OS facts, GPUs");
    cmd->add_flag("--json", opts->json, "Print the full probe as JSON (schema assay.host/1)");
    cmd->add_option("--topology-xml", opts->topology_xml,
                    "Read the topology from a saved hwloc XML instead of this host");
    cmd->add_flag("--no-gpu", opts->no_gpu, "Do not query the CUDA runtime");
    cmd->add_option("-o,--output", opts->output, "Write to FILE instead of stdout");
    return [opts]() {
        ProbeOptions po;
        if (!opts->topology_xml.empty()) {
            po.topology_xml = opts->topology_xml;
        }
        po.query_gpus = !opts->no_gpu;
        const HostInfo host = probe_host(po);
        write_output(opts->output, opts->json ? to_json(host) + "\n" : render_host_summary(host));
        return kOk;
    };
}

}  // namespace assay::cli
