// The topology's impairments as the netlink layer's qdisc settings: the one place where the
// two meet, so netlink knows nothing of topologies.
#pragma once

#include "netlink/qdisc.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {

netlink::QdiscSettings qdiscSettingsOf(const topo::Impairment& impairment);

}  // namespace netlab::nsmgr
