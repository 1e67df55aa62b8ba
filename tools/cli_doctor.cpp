// netlab doctor: a table of what this machine lets netlab do (nsmgr/doctor.hpp).
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "base/helper_program.hpp"
#include "nsmgr/doctor.hpp"
#include "report/report_json.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"

namespace netlab::tools {
namespace {

// A helper program netlab runs for one verb.
void addHelperCheck(nsmgr::DoctorReport& report, const char* name, const char* built,
                    const char* verb) {
  const std::string program = helperProgram(name, built);
  const bool found = ::access(program.c_str(), X_OK) == 0;
  report.checks.push_back(
      {"programs", name, found ? nsmgr::CheckStatus::Ok : nsmgr::CheckStatus::Wrong,
       found ? program
             : fmt::format("not found beside netlab nor in its helper directory: `{}` cannot "
                           "start; reinstall netlab",
                           verb),
       false});
}

}  // namespace

Action defineDoctor(CLI::App& command) {
  auto format = std::make_shared<std::string>();
  addFormatOption(command, *format, {"table", "json"});
  return [format] {
    nsmgr::DoctorReport report = nsmgr::examineMachine();
    addHelperCheck(report, "netlab-web", NETLAB_WEB_PATH, "netlab web");
    addHelperCheck(report, "netlab-image", NETLAB_IMAGE_PATH, "netlab image import");
    addHelperCheck(report, "netlab-capture", NETLAB_CAPTURE_PATH, "netlab capture");
    const bool runs = report.defaultExampleRuns();
    if (*format == "json") {
      std::cout << report::doctorReportToJson(report);
    } else {
      Table table({"AREA", "CHECK", "STATUS", "DETAIL"});
      for (const auto& check : report.checks) {
        table.add(
            {check.area, check.name, std::string(nsmgr::toString(check.status)), check.detail});
      }
      std::cout << table.render()
                << (runs ? "the default example (examples/lan.json) can run here\n"
                         : "the default example (examples/lan.json) cannot run here: see the "
                           "checks above that it needs\n");
    }
    return runs ? kExitOk : kExitFailure;
  };
}

}  // namespace netlab::tools
