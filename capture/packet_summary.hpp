// One line about a captured frame, as a terminal shows a capture live: its addresses and what
// it carries ("10.0.1.1 > 10.0.1.2 ICMP echo request"). The file written with -w holds the
// frames themselves; Wireshark decodes them fully.
#pragma once

#include <string>
#include <string_view>

namespace netlab::capture {

// An Ethernet frame, as much of it as was captured.
std::string summarizeFrame(std::string_view frame);

}  // namespace netlab::capture
