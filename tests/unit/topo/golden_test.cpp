// Every example resolves to the plan checked in under golden/. After an intended change,
// regenerate with: NETLAB_UPDATE_GOLDEN=1 ./topo_unit_tests --gtest_filter='Golden*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test_support.hpp"
#include "topo/plan_json.hpp"

namespace netlab::topo {
namespace {

std::vector<std::filesystem::path> examples() {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(testing::sourceDir() / "examples")) {
    if (entry.path().extension() == ".json") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(Golden, ThereAreExamples) {
  EXPECT_GE(examples().size(), 3u);
}

TEST(Golden, ExamplesResolveToTheirGoldenPlans) {
  const bool update = std::getenv("NETLAB_UPDATE_GOLDEN") != nullptr;
  for (const auto& example : examples()) {
    SCOPED_TRACE(example.filename().string());
    auto result = loadTopologyFile(example);
    ASSERT_TRUE(result.ok()) << testing::dump(result);
    EXPECT_TRUE(result.diagnostics.empty()) << testing::dump(result);
    // The checkout's location is not part of the plan under test.
    result.plan->sourceFile = "examples/" + example.filename().string();
    const std::string checkout = testing::sourceDir().string() + "/";
    for (auto& node : result.plan->nodes) {
      for (auto& mount : node.mounts) {
        if (mount.source.rfind(checkout, 0) == 0) mount.source.erase(0, checkout.size());
      }
    }
    const std::string json = planToJson(*result.plan);
    const auto golden = testing::sourceDir() / "tests/unit/topo/golden" / example.filename();
    if (update) {
      std::ofstream(golden) << json;
      continue;
    }
    ASSERT_TRUE(std::filesystem::exists(golden))
        << golden << " is missing; run with NETLAB_UPDATE_GOLDEN=1 to create it";
    EXPECT_EQ(json, readText(golden)) << "regenerate with NETLAB_UPDATE_GOLDEN=1 if intended";
  }
}

}  // namespace
}  // namespace netlab::topo
