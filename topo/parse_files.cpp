// `mounts` and `files` of a node: paths on the host and inside the node.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <system_error>

#include "base/image_name.hpp"
#include "topo/parse.hpp"

namespace netlab::topo {
namespace {

std::string withoutTrailingSlash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// A path inside the node: absolute, without `..` (it must not climb out of what the node
// sees), not `/` itself. Returned normalized.
std::optional<std::string> nodePath(ParseContext& context, const Where& where,
                                    const std::string& text) {
  std::string problem;
  const std::filesystem::path path(text);
  if (text.find('\0') != std::string::npos) {
    problem = "the path contains a NUL character";
  } else if (!path.is_absolute()) {
    problem = fmt::format("`{}` is not an absolute path", excerpt(text));
  } else if (std::find(path.begin(), path.end(), "..") != path.end()) {
    problem = fmt::format("`{}` contains `..`", excerpt(text));
  }
  std::string normal = withoutTrailingSlash(path.lexically_normal().string());
  if (problem.empty() && normal == "/") problem = "`/` itself cannot be a target";
  if (problem.empty()) return normal;
  context.sink.error(where, problem, "a target is an absolute path inside the node, e.g. \"/srv\"");
  return std::nullopt;
}

// A host path: a relative one starts at the topology file's directory. It must exist now,
// so that a typo fails here rather than half-way through bringing the lab up.
std::optional<std::string> mountSource(ParseContext& context, const Where& where,
                                       const std::string& text) {
  if (text.empty() || text.find('\0') != std::string::npos) {
    context.sink.error(where, "a mount source must be a non-empty path without NUL characters");
    return std::nullopt;
  }
  std::filesystem::path path(text);
  if (path.is_relative()) path = context.baseDirectory / path;
  path = path.lexically_normal();
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    context.sink.error(where, fmt::format("mount source `{}` does not exist", excerpt(text)),
                       fmt::format("looked for `{}`", excerpt(path.string(), 200)));
    return std::nullopt;
  }
  return withoutTrailingSlash(path.string());
}

void addMount(ParseContext& context, const Located<std::string>& source,
              const Located<std::string>& target, bool readOnly, NodeSettings& settings) {
  auto sourcePath = mountSource(context, source.where, source.value);
  auto targetPath = nodePath(context, target.where, target.value);
  if (sourcePath && targetPath) {
    settings.mounts.push_back({*sourcePath, *targetPath, readOnly});
  }
}

struct MountDraft {
  std::optional<Located<std::string>> source;
  std::optional<Located<std::string>> target;
  bool readOnly = false;
};

void parseMountObject(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  static const FieldTable<MountDraft> fields{
      {"source",
       [](ParseContext& context, const Cursor& at, MountDraft& draft) {
         if (const auto* text = expectString(context, at)) {
           draft.source = Located<std::string>{*text, at.where()};
         }
       }},
      {"target",
       [](ParseContext& context, const Cursor& at, MountDraft& draft) {
         if (const auto* text = expectString(context, at)) {
           draft.target = Located<std::string>{*text, at.where()};
         }
       }},
      {"readonly",
       [](ParseContext& context, const Cursor& at, MountDraft& draft) {
         draft.readOnly = expectBool(context, at).value_or(false);
       }},
  };
  const size_t errorsBefore = context.sink.errorCount();
  MountDraft draft;
  parseFields(context, at, fields, draft);
  if (context.sink.errorCount() != errorsBefore) return;
  if (!draft.source || !draft.target) {
    context.sink.error(at.where(), "a mount needs `source` and `target`");
    return;
  }
  addMount(context, *draft.source, *draft.target, draft.readOnly, settings);
}

// "source:target" or "source:target:ro" (":rw" is accepted and is the default).
void parseMountString(ParseContext& context, const Cursor& at, const std::string& text,
                      NodeSettings& settings) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t colon; (colon = text.find(':', start)) != std::string::npos; start = colon + 1) {
    parts.push_back(text.substr(start, colon - start));
  }
  parts.push_back(text.substr(start));
  const bool hasOption = parts.size() == 3 && (parts[2] == "ro" || parts[2] == "rw");
  if (parts.size() != 2 && !hasOption) {
    context.sink.error(at.where(), fmt::format("`{}` is not a mount", excerpt(text)),
                       R"(write "source:target" or "source:target:ro")");
    return;
  }
  addMount(context, {parts[0], at.where()}, {parts[1], at.where()}, hasOption && parts[2] == "ro",
           settings);
}

std::optional<uint32_t> parseMode(ParseContext& context, const Cursor& at) {
  const auto* text = expectString(context, at);
  if (!text) return std::nullopt;
  const bool octal =
      text->size() >= 3 && text->size() <= 4 &&
      std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '7'; });
  if (!octal) {
    context.sink.error(at.where(), fmt::format("`{}` is not an octal file mode", excerpt(*text)),
                       R"(write e.g. "0644" or "0600")");
    return std::nullopt;
  }
  return static_cast<uint32_t>(std::stoul(*text, nullptr, 8));
}

struct FileDraft {
  std::optional<Located<std::string>> path;
  std::optional<std::string> content;
  uint32_t mode = File{}.mode;
};

const FieldTable<FileDraft>& fileFields() {
  static const FieldTable<FileDraft> fields{
      {"path",
       [](ParseContext& context, const Cursor& at, FileDraft& draft) {
         if (const auto* text = expectString(context, at)) {
           draft.path = Located<std::string>{*text, at.where()};
         }
       }},
      {"content",
       [](ParseContext& context, const Cursor& at, FileDraft& draft) {
         if (const auto* text = expectString(context, at)) draft.content = *text;
       }},
      {"mode",
       [](ParseContext& context, const Cursor& at, FileDraft& draft) {
         if (auto mode = parseMode(context, at)) draft.mode = *mode;
       }},
  };
  return fields;
}

// Adds a file unless this list already wrote the same target.
void addFile(ParseContext& context, const Located<std::string>& path, std::string content,
             uint32_t mode, std::set<std::string>& targets, NodeSettings& settings) {
  auto target = nodePath(context, path.where, path.value);
  if (!target) return;
  if (!targets.insert(*target).second) {
    context.sink.error(path.where, fmt::format("file `{}` is written twice", excerpt(*target)));
    return;
  }
  settings.files.push_back({*target, std::move(content), mode});
}

// Characters the kernel's overlay options give a meaning of their own (separators, escapes).
constexpr std::string_view kOverlayOptionCharacters{",:\\\n\0", 5};

}  // namespace

void parseMounts(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  forEachItem(context, at, [&](const Cursor& item) {
    if (item.value.type() == JsonType::String) {
      parseMountString(context, item, item.value.string(), settings);
    } else if (item.value.type() == JsonType::Object) {
      parseMountObject(context, item, settings);
    } else {
      reportType(context, item, "a mount object or a \"source:target\" string");
    }
  });
}

void parseFiles(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  std::set<std::string> targets;
  if (at.value.type() == JsonType::Object) {
    for (const JsonMember& member : at.value.object()) {
      const Cursor content = at.member(member);
      if (const auto* text = expectString(context, content)) {
        addFile(context, {member.key, at.keyWhere(member)}, *text, File{}.mode, targets, settings);
      }
    }
    return;
  }
  if (at.value.type() != JsonType::Array) {
    reportType(context, at, "an object (path -> content) or an array of file objects");
    return;
  }
  forEachItem(context, at, [&](const Cursor& item) {
    const size_t errorsBefore = context.sink.errorCount();
    FileDraft draft;
    parseFields(context, item, fileFields(), draft);
    if (context.sink.errorCount() != errorsBefore) return;
    if (!draft.path || !draft.content) {
      context.sink.error(item.where(), "a file needs `path` and `content`");
      return;
    }
    addFile(context, *draft.path, std::move(*draft.content), draft.mode, targets, settings);
  });
}

// An image directory (a path: it holds a '/') or the name of an imported image.
void parseImage(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  const auto* text = expectString(context, at);
  if (!text) return;
  if (text->find('/') == std::string::npos) {
    if (isImageName(*text)) {
      settings.image = Located<std::string>{*text, at.where()};
    } else {
      context.sink.error(at.where(), fmt::format("`{}` is not an image name", excerpt(*text)),
                         "an imported image's name (lower-case letters, digits, '.', '_', '-'; "
                         "`netlab image ls` lists them), or a root filesystem directory: \"./rootfs\"");
    }
    return;
  }
  std::filesystem::path path(*text);
  if (path.is_relative()) path = context.baseDirectory / path;
  const std::string directory = withoutTrailingSlash(path.lexically_normal().string());
  std::error_code error;
  if (directory.find_first_of(kOverlayOptionCharacters) != std::string::npos) {
    context.sink.error(
        at.where(), fmt::format("image path `{}` holds ',', ':' or '\\'", excerpt(directory, 200)),
        "the kernel's overlay options cannot take these: move or link the "
        "directory to a path without them");
  } else if (!std::filesystem::is_directory(directory, error)) {
    context.sink.error(at.where(), fmt::format("image `{}` is not a directory", excerpt(*text)),
                       fmt::format("looked for `{}`: a root filesystem directory (made with "
                                   "mmdebstrap, for example)",
                                   excerpt(directory, 200)));
  } else {
    settings.image = Located<std::string>{directory, at.where()};
  }
}

}  // namespace netlab::topo
