// What the runtime needs to run and report the lab checks of a Plan: a human description of
// each check, and the one way its output patterns are matched.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "topo/plan.hpp"

namespace netlab::topo {

// "h1 reaches h2 over IPv6", "r1 has a route to 10.0.2.0/24 via 10.0.12.2",
// "r1: `vtysh -c 'show ip ospf neighbor'` succeeds and matches /Full/".
std::string describe(const Check& check);
// The check's name when it has one, else its description: what a pass/fail line shows.
std::string label(const Check& check);

// Whether output contains a match of check.pattern (ECMAScript, `^` and `$` at line ends);
// an empty pattern matches anything. The pattern was validated when the topology was loaded.
bool outputMatches(const CommandCheck& check, std::string_view output);

// Why pattern is not a usable regular expression ("Parenthesis is not closed."), or nullopt.
std::optional<std::string> patternProblem(const std::string& pattern);

}  // namespace netlab::topo
