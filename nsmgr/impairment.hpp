// The topology's impairments as the netlink layer's qdisc settings: the one place where the
// two meet, so netlink knows nothing of topologies.
#pragma once

#include "netlink/qdisc.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {

netlink::QdiscSettings qdiscSettingsOf(const topo::Impairment& impairment);
// The reverse, for settings read from the kernel; a delay beyond the topology's range (about
// 71 minutes, set by `tc` in the node) is capped.
topo::Impairment impairmentOf(const netlink::QdiscSettings& settings);

}  // namespace netlab::nsmgr
