// netlab doctor: a table of what this machine lets netlab do (nsmgr/doctor.hpp).
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

void addWebServerCheck(nsmgr::DoctorReport& report) {
  const std::string web = helperProgram("netlab-web", NETLAB_WEB_PATH);
  const bool found = ::access(web.c_str(), X_OK) == 0;
  report.checks.push_back({"programs", "netlab-web",
                           found ? nsmgr::CheckStatus::Ok : nsmgr::CheckStatus::Wrong,
                           found ? web
                                 : "not found beside netlab nor in its helper directory: "
                                   "`netlab web` cannot start; reinstall netlab",
                           false});
}

}  // namespace

Action defineDoctor(CLI::App& command) {
  auto format = std::make_shared<std::string>();
  addFormatOption(command, *format, {"table", "json"});
  return [format] {
    nsmgr::DoctorReport report = nsmgr::examineMachine();
    addWebServerCheck(report);
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
