// netlab link: a running lab's links, shown, impaired, failed and restored live.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "base/error.hpp"
#include "nsmgr/link_control.hpp"
#include "report/report_json.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "topo/units.hpp"

namespace netlab::tools {
namespace {

// An option whose text topo's unit parser accepts, refused by CLI11 with the parser's reason.
template <typename T>
CLI::Validator unitValidator(topo::Parsed<T> (*parse)(std::string_view), const char* what) {
  return CLI::Validator(
      [parse](const std::string& text) {
        topo::Parsed<T> parsed = parse(text);
        if (parsed.value) return std::string();
        return parsed.error + (parsed.hint.empty() ? "" : " (" + parsed.hint + ")");
      },
      what);
}

// The impairment options of `link set`, as text until the action runs.
struct ImpairmentOptions {
  std::string delay, jitter, jitterCorrelation, loss, corrupt, duplicate, reorder, rate;
  std::optional<uint32_t> limit;

  topo::Impairment impairment() const {
    topo::Impairment fields;
    auto take = [](const std::string& text, auto parse, auto& field) {
      if (!text.empty()) field = *parse(text).value;
    };
    take(delay, topo::parseDuration, fields.delayUs);
    take(jitter, topo::parseDuration, fields.jitterUs);
    take(jitterCorrelation, topo::parsePercent, fields.jitterCorrelationPercent);
    take(loss, topo::parsePercent, fields.lossPercent);
    take(corrupt, topo::parsePercent, fields.corruptPercent);
    take(duplicate, topo::parsePercent, fields.duplicatePercent);
    take(reorder, topo::parsePercent, fields.reorderPercent);
    take(rate, topo::parseRate, fields.rateBitsPerSecond);
    fields.limitPackets = limit;
    return fields;
  }
};

void addImpairmentOptions(CLI::App& command, ImpairmentOptions& options) {
  const auto duration = unitValidator(topo::parseDuration, "DURATION");
  const auto percent = unitValidator(topo::parsePercent, "PERCENT");
  command.add_option("--delay", options.delay, "One-way delay, e.g. 20ms")->check(duration);
  command.add_option("--jitter", options.jitter, "Delay variation, e.g. 5ms")->check(duration);
  command.add_option("--jitter-correlation", options.jitterCorrelation, "e.g. 25%")->check(percent);
  command.add_option("--loss", options.loss, "Packets lost, e.g. 1%")->check(percent);
  command.add_option("--corrupt", options.corrupt, "Packets corrupted, e.g. 0.1%")->check(percent);
  command.add_option("--duplicate", options.duplicate, "Packets duplicated, e.g. 1%")
      ->check(percent);
  command.add_option("--reorder", options.reorder, "Packets sent ahead of the delay, e.g. 10%")
      ->check(percent);
  command.add_option("--rate", options.rate, "Bandwidth, e.g. 10mbit")
      ->check(unitValidator(topo::parseRate, "RATE"));
  command.add_option("--limit", options.limit, "Queue limit in packets (netem)")
      ->check(CLI::Range(1u, topo::kMaxLimitPackets));
}

std::string describeEgress(const topo::Impairment& impairment) {
  std::string text = topo::describeImpairment(impairment);
  return text.empty() ? "-" : text;
}

std::string describeEndEgress(const nsmgr::LinkEndReport& end) {
  if (!end.foreignQdiscs.empty()) return "not netlab's: " + end.foreignQdiscs;
  return describeEgress(end.egress);
}

std::string endName(const nsmgr::LinkEndReport& end) {
  return end.node + ":" + end.interface;
}

std::string linkTable(const std::vector<nsmgr::LinkReport>& links) {
  Table table({"END A", "END B", "STATE A/B", "EGRESS A->B", "EGRESS B->A", "PACKETS A->B",
               "PACKETS B->A", "DROPPED"});
  for (const auto& link : links) {
    const auto& a = link.a.counters;
    const auto& b = link.b.counters;
    uint64_t dropped =
        a.txDropped + a.rxDropped + a.qdiscDropped + b.txDropped + b.rxDropped + b.qdiscDropped;
    table.add({endName(link.a), endName(link.b), link.a.operState + "/" + link.b.operState,
               describeEndEgress(link.a), describeEndEgress(link.b), std::to_string(a.txPackets),
               std::to_string(b.txPackets), std::to_string(dropped)});
  }
  return table.render();
}

void defineShow(CLI::App& command, Action& action) {
  struct Options {
    std::string lab, format;
  };
  auto options = std::make_shared<Options>();
  addLabArgument(command, options->lab);
  addFormatOption(command, options->format, {"table", "json"});
  action = [options] {
    requireLabAccess("link show");
    const std::string lab = chooseAndEnterLab(options->lab);
    std::vector<nsmgr::LinkReport> links = nsmgr::linkReports(lab);
    std::cout << (options->format == "json" ? report::linkReportsToJson(lab, links)
                                            : linkTable(links));
    return kExitOk;
  };
}

// The options every verb on one link takes: the lab and the end that names the link.
struct EndOptions {
  std::string lab, end;
};

void addEndOptions(CLI::App& command, EndOptions& options) {
  command.add_option("end", options.end, "Either end of the link, NODE:INTERFACE (e.g. r1:eth0)")
      ->required();
  addLabArgument(command, options.lab, "--lab");
}

void defineImpair(CLI::App& command, Action& action, bool reset) {
  struct Options {
    EndOptions link;
    ImpairmentOptions impairment;
    std::string direction = "both";
  };
  auto options = std::make_shared<Options>();
  addEndOptions(command, options->link);
  if (!reset) addImpairmentOptions(command, options->impairment);
  command
      .add_option("--direction", options->direction,
                  "Traffic to affect, seen from END: out (it sends), in (it receives), or both")
      ->check(CLI::IsMember({"both", "out", "in"}))
      ->capture_default_str();
  action = [options, reset] {
    requireLabAccess(reset ? "link reset" : "link set");
    nsmgr::ImpairmentEdit edit{options->impairment.impairment(), reset};
    if (!reset && edit.fields.empty()) {
      throw Error(
          "nothing to set: give at least one of --delay, --jitter, --loss, --rate, ... "
          "(`netlab link reset` clears them)",
          EINVAL);
    }
    const nsmgr::Direction direction = options->direction == "out"  ? nsmgr::Direction::Out
                                       : options->direction == "in" ? nsmgr::Direction::In
                                                                    : nsmgr::Direction::Both;
    const std::string lab = chooseAndEnterLab(options->link.lab);
    auto changed = withContext("changing the impairments of " + options->link.end, [&] {
      return nsmgr::editImpairments(lab, options->link.end, edit, direction);
    });
    for (const auto& end : changed) {
      std::cout << fmt::format("{} egress: {}\n", endName(end), describeEgress(end.egress));
    }
    return kExitOk;
  };
}

void defineState(CLI::App& command, Action& action, bool up) {
  auto options = std::make_shared<EndOptions>();
  addEndOptions(command, *options);
  action = [options, up] {
    requireLabAccess(up ? "link up" : "link down");
    const std::string lab = chooseAndEnterLab(options->lab);
    withContext(std::string(up ? "restoring" : "failing") + " the link of " + options->end,
                [&] { nsmgr::setLinkState(lab, options->end, up); });
    std::cout << fmt::format("link of {} is {}\n", options->end, up ? "up" : "down");
    return kExitOk;
  };
}

}  // namespace

Action defineLink(CLI::App& command) {
  command.footer(
      "A link is named by either of its ends, NODE:INTERFACE.\n"
      "Examples:\n"
      "  netlab link show\n"
      "  netlab link set r1:eth0 --delay 20ms --rate 10mbit\n"
      "  netlab link set r1:eth0 --loss 1% --direction out\n"
      "  netlab link reset r1:eth0\n"
      "  netlab link down r1:eth0 && netlab link up r1:eth0");
  Subcommands subcommands(command);
  subcommands.add("show", "Every link: its ends, state, impairments in force and counters",
                  defineShow);
  subcommands.add("set", "Change a link's impairments live (the options given; the others stay)",
                  [](CLI::App& sub, Action& action) { defineImpair(sub, action, false); });
  subcommands.add("reset", "Remove a link's impairments",
                  [](CLI::App& sub, Action& action) { defineImpair(sub, action, true); });
  subcommands.add("down", "Fail a link as a pulled cable would: both ends lose carrier",
                  [](CLI::App& sub, Action& action) { defineState(sub, action, false); });
  subcommands.add("up", "Restore a failed link, with the addresses and routes it carried",
                  [](CLI::App& sub, Action& action) { defineState(sub, action, true); });
  return subcommands.action();
}

}  // namespace netlab::tools
