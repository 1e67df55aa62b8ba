#include "nsmgr/impairment.hpp"

#include <algorithm>
#include <climits>

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

namespace {

std::optional<uint32_t> cappedToU32(const std::optional<uint64_t>& value) {
  if (!value) return std::nullopt;
  return static_cast<uint32_t>(std::min<uint64_t>(*value, UINT32_MAX));
}

}  // namespace

topo::Impairment impairmentOf(const netlink::QdiscSettings& settings) {
  topo::Impairment impairment;
  impairment.delayUs = cappedToU32(settings.delayUs);
  impairment.jitterUs = cappedToU32(settings.jitterUs);
  impairment.jitterCorrelationPercent = settings.jitterCorrelationPercent;
  impairment.lossPercent = settings.lossPercent;
  impairment.corruptPercent = settings.corruptPercent;
  impairment.duplicatePercent = settings.duplicatePercent;
  impairment.reorderPercent = settings.reorderPercent;
  impairment.rateBitsPerSecond = settings.rateBitsPerSecond;
  impairment.limitPackets = settings.limitPackets;
  return impairment;
}

}  // namespace netlab::nsmgr
