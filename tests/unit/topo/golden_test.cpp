// Every example (and every sample of tests/unit/topo/samples, which show off what the examples
// do not) resolves to the plan checked in under golden/. After an intended change,
// regenerate with: NETLAB_UPDATE_GOLDEN=1 ./topo_unit_tests --gtest_filter='Golden*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test_support.hpp"
#include "topo/plan_json.hpp"

namespace netlab::topo {
namespace {

std::vector<std::filesystem::path> topologiesIn(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::vector<std::filesystem::path> examples() {
  return topologiesIn(testing::sourceDir() / "examples");
}

std::vector<std::filesystem::path> examplesAndSamples() {
  auto paths = examples();
  for (auto& sample : topologiesIn(testing::sourceDir() / "tests/unit/topo/samples")) {
    paths.push_back(sample);
  }
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
  for (const auto& example : examplesAndSamples()) {
    SCOPED_TRACE(example.filename().string());
    auto result = loadTopologyFile(example);
    ASSERT_TRUE(result.ok()) << testing::dump(result);
    EXPECT_TRUE(result.diagnostics.empty()) << testing::dump(result);
    // The checkout's location is not part of the plan under test.
    const std::string checkout = testing::sourceDir().string() + "/";
    result.plan->sourceFile = example.string().substr(checkout.size());
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
