// The JSON form of what commands report about running labs (`--format json`, and the API of
// `netlab web`).
#pragma once

#include <string>
#include <vector>

#include "nsmgr/doctor.hpp"
#include "nsmgr/report.hpp"

namespace netlab::report {

std::string labStatusToJson(const nsmgr::LabStatus& status);
std::string labListToJson(const std::vector<nsmgr::LabStatus>& labs);
// One reading of `netlab top`, as one line.
std::string topReadingToJson(const std::string& lab, const std::vector<nsmgr::NodeCpuShare>& rows,
                             double seconds);
std::string linkReportsToJson(const std::string& lab, const std::vector<nsmgr::LinkReport>& links);
std::string pingResultsToJson(const std::string& lab, const std::vector<nsmgr::PingResult>& pings);
std::string checkResultsToJson(const std::string& lab,
                               const std::vector<nsmgr::CheckResult>& results);
std::string routesToJson(const std::string& lab, const std::string& node,
                         const std::vector<nsmgr::RouteStatus>& routes);
std::string execOutcomesToJson(const std::vector<nsmgr::ExecOutcome>& outcomes);
// netlab doctor's checks, and whether the default example can run here.
std::string doctorReportToJson(const nsmgr::DoctorReport& report);

}  // namespace netlab::report
