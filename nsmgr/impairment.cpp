#include "nsmgr/impairment.hpp"

namespace netlab::nsmgr {

netlink::QdiscSettings qdiscSettingsOf(const topo::Impairment& impairment) {
  netlink::QdiscSettings settings;
  settings.delayUs = impairment.delayUs;
  settings.jitterUs = impairment.jitterUs;
  settings.jitterCorrelationPercent = impairment.jitterCorrelationPercent;
  settings.lossPercent = impairment.lossPercent;
  settings.corruptPercent = impairment.corruptPercent;
  settings.duplicatePercent = impairment.duplicatePercent;
  settings.reorderPercent = impairment.reorderPercent;
  settings.rateBitsPerSecond = impairment.rateBitsPerSecond;
  settings.limitPackets = impairment.limitPackets;
  return settings;
}

}  // namespace netlab::nsmgr
