// netlab image: the store of root filesystems imported from OCI and Docker image archives, which
// nodes use as their lower layer ("image" in the topology). docs/images.md.
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <optional>

#include "base/error.hpp"
#include "base/helper_program.hpp"
#include "image/image_store.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"

namespace netlab::tools {
namespace {

struct ImportArguments {
  std::string file;
  std::string name;
};

// In netlab-image (tools/netlab_image.cpp): image_import.hpp says why.
[[noreturn]] void runImport(const ImportArguments& arguments) {
  const std::string program = helperProgram("netlab-image", NETLAB_IMAGE_PATH);
  std::vector<const char*> argv = {"netlab-image", arguments.file.c_str()};
  if (!arguments.name.empty()) {
    argv.push_back("--name");
    argv.push_back(arguments.name.c_str());
  }
  argv.push_back(nullptr);
  ::execv(program.c_str(), const_cast<char* const*>(argv.data()));
  throw SystemError("execv", program);
}

void defineImport(CLI::App& command, Action& action) {
  auto arguments = std::make_shared<ImportArguments>();
  command
      .add_option("archive", arguments->file,
                  "An OCI image archive or layout directory, or a docker save archive")
      ->required();
  command.add_option("--name", arguments->name,
                     "The store's name for it (default: from the archive's reference, else the "
                     "file's name)");
  action = [arguments]() -> int { runImport(*arguments); };
}

void defineListImages(CLI::App& command, Action& action) {
  auto format = std::make_shared<std::string>();
  addFormatOption(command, *format, {"table", "json"});
  action = [format] {
    const std::vector<image::ImageInfo> images = image::listImages();
    if (*format == "json") {
      std::cout << image::imagesToJson(images);
      return kExitOk;
    }
    Table table({"IMAGE", "REFERENCE", "LAYERS", "SIZE", "IMPORTED"});
    for (const auto& info : images) {
      table.add({info.name, info.reference.empty() ? "-" : info.reference,
                 std::to_string(info.layers.size()), formatMemory(info.sizeBytes), info.imported});
    }
    std::cout << table.render();
    return kExitOk;
  };
}

void defineRemove(CLI::App& command, Action& action) {
  auto names = std::make_shared<std::vector<std::string>>();
  command.add_option("image", *names, "The images to remove (netlab image ls lists them)")
      ->required();
  action = [names] {
    for (const auto& name : *names) {
      image::removeImage(name);
      std::cout << fmt::format("image `{}` removed\n", name);
    }
    return kExitOk;
  };
}

}  // namespace

Action defineImage(CLI::App& command) {
  command.footer(
      "An image is a root filesystem a node can have as its lower layer (\"image\" in the\n"
      "topology), imported once from an archive that docker save, podman save or skopeo copy\n"
      "wrote, or from an OCI layout directory. No registry is contacted. The store is\n"
      "/var/lib/netlab/images for root, ~/.local/share/netlab/images for other users\n"
      "(NETLAB_IMAGE_DIR overrides). No privileges needed. See docs/images.md.\n"
      "Examples:\n"
      "  docker save debian:12 -o debian.tar && netlab image import debian.tar\n"
      "  skopeo copy docker://alpine:3.19 oci-archive:alpine.tar && netlab image import "
      "alpine.tar\n"
      "  netlab image ls\n"
      "  netlab image rm debian-12");
  Subcommands subcommands(command);
  subcommands.add("import", "Import an image archive (OCI or docker save) or OCI layout directory",
                  defineImport);
  subcommands.add("ls", "List the imported images", defineListImages);
  subcommands.add("rm", "Remove imported images", defineRemove);
  return subcommands.action();
}

}  // namespace netlab::tools
