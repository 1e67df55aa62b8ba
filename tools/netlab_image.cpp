// netlab-image: `netlab image import`, apart from netlab (image/image_import.hpp says why).
// netlab runs it as `netlab-image ARCHIVE [--name NAME]` once it has read its own options.
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <optional>

#include "base/error.hpp"
#include "image/image_import.hpp"
#include "topo/units.hpp"

namespace {

int import(const std::string& file, const std::optional<std::string>& name) {
  using netlab::image::ImageInfo;
  // A line per layer on a terminal: a big layer takes seconds to apply.
  netlab::image::ImportProgress progress;
  if (::isatty(STDERR_FILENO)) {
    progress = [](size_t layer, size_t layers, const std::string& digest) {
      std::cerr << fmt::format("applying layer {} of {} ({})\n", layer, layers, digest);
    };
  }
  const ImageInfo info = netlab::image::importImage(file, name, progress);
  std::cout << fmt::format("image `{}` imported: {} layer{}, size {}, root {}\n", info.name,
                           info.layers.size(), info.layers.size() == 1 ? "" : "s",
                           netlab::topo::formatMemory(info.sizeBytes), info.root.string());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const bool named = argc == 4 && std::string(argv[2]) == "--name";
  if (argc != 2 && !named) {
    std::cerr << "usage: netlab-image ARCHIVE [--name NAME] (netlab image import runs it)\n";
    return 2;
  }
  try {
    return import(argv[1], named ? std::optional<std::string>(argv[3]) : std::nullopt);
  } catch (const netlab::Error& error) {
    std::cerr << "netlab: " << error.what() << '\n';
    return 1;
  }
}
