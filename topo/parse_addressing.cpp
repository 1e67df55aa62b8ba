// `addressing`: whether and from which pools netlab numbers what the topology leaves open.
#include <fmt/format.h>

#include "topo/parse.hpp"

namespace netlab::topo {
namespace {

IpPrefix knownPrefix(std::string_view text) {
  return *parsePrefix(text);
}

// A pool while its keys are read; lengths are checked against the pool once both are known.
struct PoolDraft {
  PoolSpec pool;
  std::optional<Where> ipv4LengthWhere;
  std::optional<Where> ipv6LengthWhere;
};

std::optional<IpPrefix> parsePool(ParseContext& context, const Cursor& at, Family family) {
  auto network = parseNetwork(context, at);
  if (network && network->address.family != family) {
    context.sink.error(at.where(), fmt::format("`{}` is not an IPv{} prefix", toString(*network),
                                               static_cast<int>(family)));
    return std::nullopt;
  }
  return network;
}

const FieldTable<PoolDraft>& poolFields() {
  static const FieldTable<PoolDraft> fields{
      {"ipv4",
       [](ParseContext& context, const Cursor& at, PoolDraft& draft) {
         if (auto pool = parsePool(context, at, Family::V4)) draft.pool.ipv4 = *pool;
       }},
      {"ipv6",
       [](ParseContext& context, const Cursor& at, PoolDraft& draft) {
         if (auto pool = parsePool(context, at, Family::V6)) draft.pool.ipv6 = *pool;
       }},
      {"ipv4_length",
       [](ParseContext& context, const Cursor& at, PoolDraft& draft) {
         if (auto length = expectInteger(context, at, "ipv4_length", 1, 32)) {
           draft.pool.ipv4Length = static_cast<uint8_t>(*length);
           draft.ipv4LengthWhere = at.where();
         }
       }},
      {"ipv6_length",
       [](ParseContext& context, const Cursor& at, PoolDraft& draft) {
         if (auto length = expectInteger(context, at, "ipv6_length", 1, 128)) {
           draft.pool.ipv6Length = static_cast<uint8_t>(*length);
           draft.ipv6LengthWhere = at.where();
         }
       }},
  };
  return fields;
}

void checkLength(ParseContext& context, const std::optional<Where>& where, const IpPrefix& pool,
                 uint8_t length) {
  if (where && length < pool.length) {
    context.sink.error(
        *where, fmt::format("subnets of /{} do not fit in the pool {}", length, toString(pool)));
  }
}

void parsePoolObject(ParseContext& context, const Cursor& at, PoolSpec& pool) {
  PoolDraft draft{pool, std::nullopt, std::nullopt};
  parseFields(context, at, poolFields(), draft);
  checkLength(context, draft.ipv4LengthWhere, draft.pool.ipv4, draft.pool.ipv4Length);
  checkLength(context, draft.ipv6LengthWhere, draft.pool.ipv6, draft.pool.ipv6Length);
  pool = draft.pool;
}

const FieldTable<AddressingSpec>& addressingFields() {
  static const FieldTable<AddressingSpec> fields{
      {"ipv4",
       [](ParseContext& context, const Cursor& at, AddressingSpec& addressing) {
         addressing.ipv4 = expectBool(context, at).value_or(addressing.ipv4);
       }},
      {"ipv6",
       [](ParseContext& context, const Cursor& at, AddressingSpec& addressing) {
         addressing.ipv6 = expectBool(context, at).value_or(addressing.ipv6);
       }},
      {"p2p", [](ParseContext& context, const Cursor& at,
                 AddressingSpec& addressing) { parsePoolObject(context, at, addressing.p2p); }},
      {"lan", [](ParseContext& context, const Cursor& at,
                 AddressingSpec& addressing) { parsePoolObject(context, at, addressing.lan); }},
      {"loopback",
       [](ParseContext& context, const Cursor& at, AddressingSpec& addressing) {
         static const FieldTable<AddressingSpec> loopbackFields{
             {"ipv4",
              [](ParseContext& context, const Cursor& at, AddressingSpec& addressing) {
                if (auto pool = parsePool(context, at, Family::V4)) addressing.loopbackIpv4 = *pool;
              }},
             {"ipv6",
              [](ParseContext& context, const Cursor& at, AddressingSpec& addressing) {
                if (auto pool = parsePool(context, at, Family::V6)) addressing.loopbackIpv6 = *pool;
              }},
         };
         parseFields(context, at, loopbackFields, addressing);
       }},
  };
  return fields;
}

}  // namespace

AddressingSpec defaultAddressing() {
  AddressingSpec addressing;
  addressing.p2p = {knownPrefix("10.0.0.0/16"), 30, knownPrefix("fd00:10::/48"), 64};
  addressing.lan = {knownPrefix("172.16.0.0/12"), 24, knownPrefix("fd00:20::/48"), 64};
  addressing.loopbackIpv4 = knownPrefix("10.255.0.0/16");
  addressing.loopbackIpv6 = knownPrefix("fd00:ff::/64");
  return addressing;
}

AddressingSpec parseAddressing(ParseContext& context, const Cursor& at) {
  AddressingSpec addressing = defaultAddressing();
  if (at.value.type() == JsonType::Boolean) {
    addressing.enabled = at.value.boolean();
  } else {
    parseFields(context, at, addressingFields(), addressing);
  }
  return addressing;
}

}  // namespace netlab::topo
