// Where netlab's helper programs (netlab-init, netlab-web) are: beside the running program in
// the build tree, in LIBEXECDIR/netlab once installed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace netlab {

// The places looked at, in order: beside the running program; the install's helper directory
// relative to it (`../libexec/netlab`, so a relocated prefix works); the helper directory the
// build was configured to install to; `builtAt`, the one built with the program (tests).
std::vector<std::string> helperCandidates(std::string_view name, std::string_view builtAt);

// The first executable candidate; `builtAt` when there is none (exec then names it in its error).
std::string helperProgram(std::string_view name, std::string_view builtAt);

}  // namespace netlab
