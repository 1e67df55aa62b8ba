// `links`: endpoints in their three forms, link prefixes, MTU and impairments.
#include <fmt/format.h>

#include <cmath>

#include "base/mac.hpp"
#include "topo/names.hpp"
#include "topo/parse.hpp"
#include "topo/units.hpp"

namespace netlab::topo {
namespace {

// 68 is IPv4's minimum MTU (RFC 791) and the kernel's lower bound for veth devices. Below
// 1280, IPv6's minimum (RFC 8200), the kernel gives a device no IPv6 at all, and then refuses
// the address generation mode netlab sets on every interface (RTM_SETLINK IFLA_INET6_ADDR_GEN_MODE:
// EAFNOSUPPORT), so netlab builds links from 1280 up. Checked with
// `ip link add a mtu 1279 type veth peer b mtu 1279; ip link set a addrgenmode none`.
constexpr int64_t kMinIpv4Mtu = 68;
constexpr int64_t kMinMtu = 1280;
constexpr int64_t kMaxMtu = 65535;

std::optional<double> parsePercentValue(ParseContext& context, const Cursor& at) {
  if (at.value.type() == JsonType::Number) {
    const double percent = at.value.number().value;
    if (std::isfinite(percent) && percent >= 0 && percent <= 100) return percent;
    context.sink.error(at.where(), fmt::format("{} is outside 0..100 percent", percent));
    return std::nullopt;
  }
  if (at.value.type() != JsonType::String) {
    reportType(context, at, "a percentage (\"1%\" or a number)");
    return std::nullopt;
  }
  auto parsed = parsePercent(at.value.string());
  if (!parsed.value) context.sink.error(at.where(), parsed.error, parsed.hint);
  return parsed.value;
}

template <typename T>
std::optional<T> parseUnitString(ParseContext& context, const Cursor& at, std::string_view expected,
                                 Parsed<T> (*parse)(std::string_view)) {
  const auto* text = at.value.type() == JsonType::String ? &at.value.string() : nullptr;
  if (!text) {
    reportType(context, at, expected);
    return std::nullopt;
  }
  auto parsed = parse(*text);
  if (!parsed.value) context.sink.error(at.where(), parsed.error, parsed.hint);
  return parsed.value;
}

// A field that stores a percentage into one of Impairment's members.
Field<ImpairmentSpec> percentField(std::string_view key,
                                   std::optional<double> Impairment::*member) {
  return {key, [member](ParseContext& context, const Cursor& at, ImpairmentSpec& spec) {
            spec.values.*member = parsePercentValue(context, at);
          }};
}

Field<ImpairmentSpec> durationField(std::string_view key,
                                    std::optional<uint32_t> Impairment::*member) {
  return {key, [member](ParseContext& context, const Cursor& at, ImpairmentSpec& spec) {
            spec.values.*member =
                parseUnitString(context, at, "a duration like \"40ms\"", parseDuration);
          }};
}

const FieldTable<ImpairmentSpec>& impairmentFields() {
  static const FieldTable<ImpairmentSpec> fields = [] {
    FieldTable<ImpairmentSpec> table{
        durationField("delay", &Impairment::delayUs),
        durationField("jitter", &Impairment::jitterUs),
        percentField("jitter_correlation", &Impairment::jitterCorrelationPercent),
        percentField("loss", &Impairment::lossPercent),
        percentField("corrupt", &Impairment::corruptPercent),
        percentField("duplicate", &Impairment::duplicatePercent),
        percentField("reorder", &Impairment::reorderPercent),
        {"rate",
         [](ParseContext& context, const Cursor& at, ImpairmentSpec& spec) {
           spec.values.rateBitsPerSecond =
               parseUnitString(context, at, "a rate like \"10mbit\"", parseRate);
         }},
        {"limit",
         [](ParseContext& context, const Cursor& at, ImpairmentSpec& spec) {
           if (auto limit = expectInteger(context, at, "limit", 1, kMaxLimitPackets)) {
             spec.values.limitPackets = static_cast<uint32_t>(*limit);
           }
         }},
    };
    return table;
  }();
  return fields;
}

// Warnings and the keys needing the merged egress; for a link's keys this is called on the
// link object (whose other keys are not impairments).
void noteImpairmentKeys(const Cursor& at, ImpairmentSpec& spec, DiagnosticSink& sink) {
  if (at.value.type() != JsonType::Object) return;
  for (const JsonMember& member : at.value.object()) {
    const Where where = at.member(member).where();
    if (member.key == "jitter" && spec.values.jitterUs) spec.jitter = where;
    if (member.key == "reorder" && spec.values.reorderPercent) spec.reorder = where;
    if (member.key == "loss" && spec.values.lossPercent == 100.0) {
      sink.warning(where, "loss 100% drops every packet", "to cut a link, remove it instead");
    }
  }
}

void parseMtu(ParseContext& context, const Cursor& at, LinkSpec& link) {
  const auto& value = at.value;
  if (value.type() == JsonType::Number && value.number().integer &&
      *value.number().integer >= kMinIpv4Mtu && *value.number().integer < kMinMtu) {
    context.sink.error(
        at.where(), fmt::format("MTU {} is below 1280", *value.number().integer),
        "below 1280 (IPv6's minimum MTU) the kernel gives a device no IPv6, and refuses the IPv6 "
        "address generation setting netlab makes on every interface, IPv4-only ones included; "
        "IPv4 alone would go down to 68, but netlab builds links of 1280..65535");
    return;
  }
  if (auto mtu = expectInteger(context, at, "MTU", kMinMtu, kMaxMtu)) {
    link.mtu = static_cast<uint32_t>(*mtu);
  }
}

void parseEndpointMac(ParseContext& context, const Cursor& at, EndpointSpec& endpoint) {
  const auto* text = expectString(context, at);
  if (!text) return;
  auto mac = parseMac(*text);
  if (!mac) {
    context.sink.error(at.where(), fmt::format("`{}` is not a MAC address", excerpt(*text)),
                       "write six hex pairs, e.g. \"02:00:00:00:00:01\"");
  } else if ((*mac)[0] & 0x01) {
    context.sink.error(at.where(), fmt::format("`{}` is a multicast MAC address", *text),
                       "an interface needs a unicast MAC: the first byte must be even");
  } else if (*mac == Mac{}) {
    context.sink.error(at.where(), "the all-zero MAC address cannot be an interface's");
  } else {
    endpoint.mac = Located<Mac>{*mac, at.where()};
  }
}

void parseInterfaceName(ParseContext& context, const Cursor& at, const std::string& name,
                        EndpointSpec& endpoint) {
  if (auto problem = interfaceNameProblem(name)) {
    context.sink.error(at.where(), *problem);
    return;
  }
  endpoint.interface = Located<std::string>{name, at.where()};
}

const FieldTable<EndpointSpec>& endpointFields() {
  static const FieldTable<EndpointSpec> fields{
      {"node",
       [](ParseContext& context, const Cursor& at, EndpointSpec& endpoint) {
         if (const auto* text = expectString(context, at)) endpoint.node = {*text, at.where()};
       }},
      {"interface",
       [](ParseContext& context, const Cursor& at, EndpointSpec& endpoint) {
         if (const auto* text = expectString(context, at)) {
           parseInterfaceName(context, at, *text, endpoint);
         }
       }},
      {"addresses",
       [](ParseContext& context, const Cursor& at, EndpointSpec& endpoint) {
         forEachString(context, at, [&](const Cursor& item, const std::string&) {
           auto address = parseInterfaceAddress(context, item);
           if (address && !rejectLoopbackRange(context, item, address->prefix, false)) {
             endpoint.addresses.push_back(*address);
           }
         });
       }},
      {"mac", parseEndpointMac},
      independent<EndpointSpec>(
          {"out",
           [](ParseContext& context, const Cursor& at, EndpointSpec& endpoint) {
             parseFields(context, at, impairmentFields(), endpoint.out);
             noteImpairmentKeys(at, endpoint.out, context.sink);
           }}),
      independent<EndpointSpec>(
          {"in",
           [](ParseContext& context, const Cursor& at, EndpointSpec& endpoint) {
             parseFields(context, at, impairmentFields(), endpoint.in);
             noteImpairmentKeys(at, endpoint.in, context.sink);
           }}),
  };
  return fields;
}

// "r1" or "r1:eth3", or an endpoint object. An endpoint with a problem in what it names is
// left out; one with a bad impairment is kept (without it), so addressing and the tests still
// see the link.
std::optional<EndpointSpec> parseEndpoint(ParseContext& context, const Cursor& at) {
  const size_t errorsBefore = context.sink.blockingErrorCount();
  EndpointSpec endpoint;
  endpoint.where = at.where();
  endpoint.node.where = at.where();
  if (at.value.type() == JsonType::String) {
    const std::string& text = at.value.string();
    const size_t colon = text.find(':');
    endpoint.node.value = text.substr(0, colon);
    if (colon != std::string::npos)
      parseInterfaceName(context, at, text.substr(colon + 1), endpoint);
  } else if (at.value.type() == JsonType::Object) {
    parseFields(context, at, endpointFields(), endpoint);
    if (endpoint.node.value.empty() && context.sink.blockingErrorCount() == errorsBefore) {
      context.sink.error(at.where(), "an endpoint needs `node`");
    }
  } else {
    reportType(context, at, "a node name, \"node:interface\" or an endpoint object");
  }
  if (context.sink.blockingErrorCount() != errorsBefore) return std::nullopt;
  return endpoint;
}

void parseEndpoints(ParseContext& context, const Cursor& at, LinkSpec& link) {
  forEachItem(context, at, [&](const Cursor& item) {
    if (auto endpoint = parseEndpoint(context, item))
      link.endpoints.push_back(std::move(*endpoint));
  });
}

void parsePrefixes(ParseContext& context, const Cursor& at, LinkSpec& link) {
  forEachString(context, at, [&](const Cursor& item, const std::string&) {
    auto network = parseNetwork(context, item);
    if (!network || rejectLoopbackRange(context, item, *network, true)) return;
    for (const AddressSpec& earlier : link.prefixes) {
      if (earlier.prefix.address.family == network->address.family) {
        context.sink.error(item.where(), "a link has at most one prefix per address family");
        return;
      }
    }
    link.prefixes.push_back({*network, true, item.where()});
  });
}

// "0.0.0.1" or 1: OSPF areas are 32-bit numbers, usually written like an IPv4 address.
std::optional<uint32_t> parseArea(ParseContext& context, const Cursor& at) {
  if (at.value.type() == JsonType::Number) {
    auto number = expectInteger(context, at, "area", 0, UINT32_MAX);
    if (number) return static_cast<uint32_t>(*number);
    return std::nullopt;
  }
  const auto* text = expectString(context, at);
  if (!text) return std::nullopt;
  auto address = parseAddress(*text);
  if (address && address->family == Family::V4) {
    const auto& b = address->bytes;
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  }
  context.sink.error(at.where(), fmt::format("invalid OSPF area `{}`", excerpt(*text)),
                     R"(write it as a number (1) or like an IPv4 address ("0.0.0.1"))");
  return std::nullopt;
}

void parseOspf(ParseContext& context, const Cursor& at, LinkSpec& link) {
  static const FieldTable<OspfLinkSpec> fields{
      {"cost",
       [](ParseContext& context, const Cursor& at, OspfLinkSpec& ospf) {
         if (auto cost = expectInteger(context, at, "OSPF cost", 1, UINT16_MAX))
           ospf.cost = static_cast<uint16_t>(*cost);
       }},
      {"area", [](ParseContext& context, const Cursor& at,
                  OspfLinkSpec& ospf) { ospf.area = parseArea(context, at); }},
      {"passive", [](ParseContext& context, const Cursor& at,
                     OspfLinkSpec& ospf) { ospf.passive = expectBool(context, at); }},
  };
  OspfLinkSpec ospf;
  ospf.where = at.where();
  parseFields(context, at, fields, ospf);
  link.ospf = ospf;
}

const FieldTable<LinkSpec>& linkFields() {
  static const FieldTable<LinkSpec> fields = [] {
    FieldTable<LinkSpec> table{
        {"endpoints", parseEndpoints},
        {"prefix", parsePrefixes},
        {"ospf", parseOspf},
        independent<LinkSpec>({"mtu", parseMtu}),
        // A label for people: graphs show it.
        independent<LinkSpec>({"name",
                               [](ParseContext& context, const Cursor& at, LinkSpec& link) {
                                 if (const auto* text = expectString(context, at)) {
                                   if (!rejectNul(context, at, *text)) link.name = *text;
                                 }
                               }}),
    };
    for (auto& field : liftFields(impairmentFields(), &LinkSpec::impairment))
      table.push_back(independent(std::move(field)));
    return table;
  }();
  return fields;
}

// A link whose endpoints are wrong is left out (wellFormed false); a bad MTU or impairment
// is reported and the link kept with the default.
LinkSpec parseLink(ParseContext& context, const Cursor& at) {
  const size_t errorsBefore = context.sink.blockingErrorCount();
  LinkSpec link;
  link.where = at.where();
  if (at.value.type() == JsonType::Array) {
    parseEndpoints(context, at, link);
  } else if (at.value.type() == JsonType::Object) {
    parseFields(context, at, linkFields(), link);
    noteImpairmentKeys(at, link.impairment, context.sink);
  } else {
    reportType(context, at, "an array of endpoints or a link object");
  }
  if (context.sink.blockingErrorCount() == errorsBefore && link.endpoints.size() < 2) {
    context.sink.error(at.where(), fmt::format("a link needs at least 2 endpoints, found {}",
                                               link.endpoints.size()));
  }
  link.wellFormed = context.sink.blockingErrorCount() == errorsBefore;
  return link;
}

}  // namespace

std::vector<LinkSpec> parseLinks(ParseContext& context, const Cursor& at) {
  std::vector<LinkSpec> links;
  forEachItem(context, at, [&](const Cursor& item) { links.push_back(parseLink(context, item)); });
  return links;
}

}  // namespace netlab::topo
