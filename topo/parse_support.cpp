#include "topo/parse_support.hpp"

#include <fmt/format.h>

#include "topo/names.hpp"

namespace netlab::topo {

void reportType(ParseContext& context, const Cursor& at, std::string_view expected) {
  context.sink.error(at.where(),
                     fmt::format("expected {}, found {}", expected, describe(at.value.type())));
}

const std::string* expectString(ParseContext& context, const Cursor& at) {
  if (at.value.type() == JsonType::String) return &at.value.string();
  reportType(context, at, "a string");
  return nullptr;
}

std::optional<bool> expectBool(ParseContext& context, const Cursor& at) {
  if (at.value.type() == JsonType::Boolean) return at.value.boolean();
  reportType(context, at, "a boolean");
  return std::nullopt;
}

std::optional<int64_t> expectInteger(ParseContext& context, const Cursor& at, std::string_view what,
                                     int64_t min, int64_t max) {
  if (at.value.type() != JsonType::Number || !at.value.number().integer) {
    const bool isNumber = at.value.type() == JsonType::Number;
    context.sink.error(
        at.where(), isNumber
                        ? fmt::format("expected an integer, found {}", at.value.number().value)
                        : fmt::format("expected an integer, found {}", describe(at.value.type())));
    return std::nullopt;
  }
  const int64_t value = *at.value.number().integer;
  if (value < min || value > max) {
    context.sink.error(at.where(), fmt::format("{} {} is outside {}..{}", what, value, min, max));
    return std::nullopt;
  }
  return value;
}

const JsonValue::Array* expectArray(ParseContext& context, const Cursor& at) {
  if (at.value.type() == JsonType::Array) return &at.value.array();
  reportType(context, at, "an array");
  return nullptr;
}

const JsonValue::Object* expectObject(ParseContext& context, const Cursor& at) {
  if (at.value.type() == JsonType::Object) return &at.value.object();
  reportType(context, at, "an object");
  return nullptr;
}

void forEachItem(ParseContext& context, const Cursor& at,
                 const std::function<void(const Cursor&)>& fn) {
  const auto* items = expectArray(context, at);
  if (!items) return;
  for (size_t i = 0; i < items->size(); ++i) fn(Cursor{(*items)[i], indexPath(at.path, i)});
}

void forEachString(ParseContext& context, const Cursor& at,
                   const std::function<void(const Cursor&, const std::string&)>& fn) {
  if (at.value.type() == JsonType::String) {
    fn(at, at.value.string());
    return;
  }
  if (at.value.type() != JsonType::Array) {
    reportType(context, at, "a string or an array of strings");
    return;
  }
  forEachItem(context, at, [&](const Cursor& item) {
    if (const auto* text = expectString(context, item)) fn(item, *text);
  });
}

bool rejectNul(ParseContext& context, const Cursor& at, const std::string& text) {
  if (text.find('\0') == std::string::npos) return false;
  context.sink.error(at.where(), "contains a NUL character");
  return true;
}

std::optional<AddressSpec> parseInterfaceAddress(ParseContext& context, const Cursor& at) {
  const auto* text = expectString(context, at);
  if (!text) return std::nullopt;
  auto prefix = parsePrefix(*text);
  if (!prefix) {
    context.sink.error(at.where(), fmt::format("`{}` is not an IP address", excerpt(*text)),
                       R"(write e.g. "10.0.0.1/30" or "fd00::1/64")");
    return std::nullopt;
  }
  return AddressSpec{*prefix, text->find('/') != std::string::npos, at.where()};
}

bool rejectLoopbackRange(ParseContext& context, const Cursor& at, const IpPrefix& prefix,
                         bool isNetwork) {
  const bool v4 = prefix.address.family == Family::V4;
  const IpPrefix range = *parsePrefix(v4 ? "127.0.0.0/8" : "::1/128");
  const bool inRange = isNetwork ? overlaps(prefix, range) : contains(range, prefix.address);
  if (!inRange) return false;
  const std::string message =
      isNetwork ? fmt::format(
                      "{} overlaps the loopback range {}: its addresses cannot be on an "
                      "interface",
                      toString(prefix), toString(range))
                : fmt::format("{} is in the loopback range {}: it cannot be on an interface",
                              toString(prefix), toString(range));
  context.sink.error(
      at.where(), message,
      v4 ? "the kernel takes 127.0.0.0/8 as martian on every device but lo: packets to or from "
           "it are dropped. Use a private range such as 10.0.0.0/8, or `loopback` for an "
           "address on lo"
         : "the kernel refuses ::1 on any device but lo; use a unique local address such as "
           "fd00::1");
  return true;
}

std::optional<IpPrefix> parseNetwork(ParseContext& context, const Cursor& at) {
  const auto* text = expectString(context, at);
  if (!text) return std::nullopt;
  auto prefix = parsePrefix(*text);
  if (!prefix) {
    context.sink.error(at.where(), fmt::format("`{}` is not an IP prefix", excerpt(*text)),
                       R"(write e.g. "10.1.0.0/24" or "fd00:1::/64")");
    return std::nullopt;
  }
  if (hasHostBits(*prefix)) {
    context.sink.error(at.where(),
                       fmt::format("`{}` has host bits set where a network is expected", *text),
                       fmt::format("did you mean `{}`?", toString(networkOf(*prefix))));
    return std::nullopt;
  }
  return prefix;
}

std::optional<IpAddress> parseGateway(ParseContext& context, const Cursor& at) {
  const auto* text = expectString(context, at);
  if (!text) return std::nullopt;
  auto gateway = parseAddress(*text);
  if (!gateway) {
    context.sink.error(at.where(), fmt::format("`{}` is not an IP address", excerpt(*text)),
                       "a gateway is an address without a length, e.g. \"10.0.0.2\"");
  }
  return gateway;
}

std::optional<Located<std::string>> parseInterfaceName(ParseContext& context, const Cursor& at) {
  const auto* text = expectString(context, at);
  if (!text) return std::nullopt;
  if (auto problem = interfaceNameProblem(*text)) {
    context.sink.error(at.where(), *problem);
    return std::nullopt;
  }
  return Located<std::string>{*text, at.where()};
}

void reportUnknownKey(ParseContext& context, const Cursor& object, const JsonMember& member,
                      const std::vector<std::string_view>& knownKeys) {
  std::string hint = didYouMean(member.key, knownKeys);
  if (hint.empty()) hint = fmt::format("known keys: {}", fmt::join(knownKeys, ", "));
  context.sink.error(object.keyWhere(member), fmt::format("unknown key `{}`", excerpt(member.key)),
                     hint);
}

}  // namespace netlab::topo
