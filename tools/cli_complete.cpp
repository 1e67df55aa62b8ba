// netlab __complete WORDS...: what the shells' completion (dist/completion/) offers for the last
// word, one candidate a line, from the same command table as --help; ":files" asks the shell to
// complete file names. Labs, nodes and NODE:IF endpoints come from the running labs' state
// files, read without waiting for their locks. Hidden from --help.
#include <algorithm>
#include <iostream>
#include <memory>
#include <set>

#include "image/image_store.hpp"
#include "nsmgr/lab_dir.hpp"
#include "nsmgr/lab_state.hpp"
#include "tools/cli.hpp"

namespace netlab::tools {
namespace {

constexpr const char* kFiles = ":files";

bool isFlag(const CLI::Option& option) {
  return option.get_type_size_max() == 0;
}

const CLI::Option* findOption(const CLI::App& at, const std::string& word) {
  for (const CLI::Option* option : at.get_options()) {
    if (!option->nonpositional()) continue;
    for (const auto& name : option->get_lnames()) {
      if (word == "--" + name) return option;
    }
    for (const auto& name : option->get_snames()) {
      if (word == "-" + name) return option;
    }
  }
  return nullptr;
}

std::vector<const CLI::App*> visibleSubcommands(const CLI::App& at) {
  return at.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty(); });
}

std::vector<const CLI::Option*> positionals(const CLI::App& at) {
  return at.get_options([](const CLI::Option* option) { return option->nonpositional() == false; });
}

// Where the command line stands before its last word.
struct Position {
  const CLI::App* at = nullptr;
  const CLI::Option* awaitingValue = nullptr;  // the option the last word is the value of
  size_t positionalsGiven = 0;
  std::string lab;  // --lab, or a positional lab
};

Position positionOf(const CLI::App& root, const std::vector<std::string>& words) {
  Position position;
  position.at = &root;
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& word = words[i];
    if (position.awaitingValue) {
      if (position.awaitingValue->get_lnames() == std::vector<std::string>{"lab"}) {
        position.lab = word;
      }
      position.awaitingValue = nullptr;
      continue;
    }
    if (word.starts_with("-") && word != "-") {
      const CLI::Option* option = findOption(*position.at, word);
      if (option && !isFlag(*option)) position.awaitingValue = option;
      continue;
    }
    if (position.positionalsGiven == 0) {
      auto subs = visibleSubcommands(*position.at);
      auto match = std::find_if(subs.begin(), subs.end(),
                                [&](const CLI::App* sub) { return sub->get_name() == word; });
      if (match != subs.end()) {
        position.at = *match;
        continue;
      }
    }
    auto given = positionals(*position.at);
    if (position.positionalsGiven < given.size() &&
        given[position.positionalsGiven]->get_name() == "lab") {
      position.lab = word;
    }
    ++position.positionalsGiven;
  }
  return position;
}

std::vector<std::string> runningLabs() {
  try {
    return nsmgr::listLabDirectories();
  } catch (const std::exception&) {
    return {};
  }
}

// The nodes (or their NODE:IF endpoints) of the lab named, else of every running lab.
std::set<std::string> nodesOf(const std::string& lab, bool endpoints) {
  std::set<std::string> names;
  std::vector<std::string> labs = lab.empty() ? runningLabs() : std::vector<std::string>{lab};
  for (const auto& name : labs) {
    auto state = nsmgr::peekLabState(name);
    if (!state) continue;
    for (const auto& node : state->plan.nodes) {
      if (!endpoints) names.insert(node.name);
      for (const auto& interface : node.interfaces) {
        if (endpoints) names.insert(node.name + ":" + interface.name);
      }
    }
  }
  return names;
}

// The store's images; none when it cannot be read (a completion prints no error).
std::vector<std::string> importedImages() {
  std::vector<std::string> names;
  try {
    for (const auto& info : image::listImages()) names.push_back(info.name);
  } catch (const std::exception&) {
  }
  return names;
}

// A positional's candidates, by the name it has in --help.
void printPositional(const std::string& name, const std::string& lab) {
  if (name == "topology" || name == "archive") {
    std::cout << kFiles << '\n';
  } else if (name == "image") {
    for (const auto& each : importedImages()) std::cout << each << '\n';
  } else if (name == "lab") {
    for (const auto& each : runningLabs()) std::cout << each << '\n';
  } else if (name == "node" || name == "end" || name == "interfaces-and-filter") {
    for (const auto& each : nodesOf(lab, name != "node")) std::cout << each << '\n';
  }
}

void complete(const CLI::App& root, const std::vector<std::string>& words) {
  const Position position = positionOf(root, words);
  const std::string current = words.empty() ? "" : words.back();
  if (position.awaitingValue) {
    const auto& names = position.awaitingValue->get_lnames();
    if (names == std::vector<std::string>{"lab"})
      printPositional("lab", "");
    else if (position.awaitingValue->get_type_name() == "FILE")
      std::cout << kFiles << '\n';
    return;
  }
  if (current.starts_with("-")) {
    for (const CLI::Option* option : position.at->get_options()) {
      if (option->nonpositional() == false || option->get_group().empty()) continue;
      for (const auto& name : option->get_lnames()) std::cout << "--" << name << '\n';
      for (const auto& name : option->get_snames()) std::cout << "-" << name << '\n';
    }
    return;
  }
  if (position.positionalsGiven == 0) {
    auto subs = visibleSubcommands(*position.at);
    for (const CLI::App* sub : subs) std::cout << sub->get_name() << '\n';
    if (!subs.empty()) return;
  }
  auto given = positionals(*position.at);
  if (given.empty()) return;
  // A positional that takes several words keeps taking them.
  const size_t index = std::min(position.positionalsGiven, given.size() - 1);
  if (index < position.positionalsGiven && given[index]->get_expected_max() <= 1) return;
  printPositional(given[index]->get_name(), position.lab);
}

}  // namespace

Action defineComplete(CLI::App& command) {
  command.group("");  // hidden: for the completion scripts
  auto words = std::make_shared<std::vector<std::string>>();
  command.add_option("words", *words, "The words after `netlab`, the one to complete last");
  return [&command, words] {
    std::vector<std::string> line = *words;
    if (line.empty()) line.emplace_back();
    complete(*command.get_parent(), line);
    return kExitOk;
  };
}

}  // namespace netlab::tools
