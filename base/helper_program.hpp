// Where netlab's helper programs (netlab-init, netlab-web) and its documentation are: in the
// build and source trees, or where they were installed.
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

// The directory of docs/*.md: DOCDIR relative to the running program (an install, relocated or
// not), else the source tree's docs/ (a build), else DOCDIR under the configured prefix.
std::string documentationDirectory();

// DOCDIR relative to the prefix (share/doc/netlab), for what is written at build time and read
// wherever the package is installed (manual pages).
std::string documentationDirectoryUnderPrefix();

}  // namespace netlab
