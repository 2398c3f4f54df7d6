// nearestName: the "did you mean" of an error message, for a name typed by hand (a config key, a
// section, a plugin). Header only; no state.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace busbar {

// The edit distance (insertions, deletions, substitutions and swaps of two neighbours) between
// `a` and `b`.
inline size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The name of `names` nearest to `typed`, when it is at most `most` edits away and nearer than
// any other; "" otherwise (also when `typed` is one of them).
inline std::string nearestName(const std::string& typed, const std::vector<std::string>& names,
                               size_t most = 2) {
  std::string best;
  size_t best_distance = most + 1;
  bool tie = false;
  for (const auto& name : names) {
    const size_t distance = editDistance(typed, name);
    if (distance == 0) return "";
    if (distance < best_distance) {
      best = name;
      best_distance = distance;
      tie = false;
    } else if (distance == best_distance && name != best) {
      tie = true;
    }
  }
  return tie ? "" : best;
}

// " Did you mean NAME?" for nearestName(typed, names), or "".
inline std::string didYouMean(const std::string& typed, const std::vector<std::string>& names) {
  const std::string near = nearestName(typed, names);
  return near.empty() ? "" : " Did you mean " + near + "?";
}

}  // namespace busbar
