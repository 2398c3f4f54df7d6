#include "ops/prometheus_text.h"

#include <charconv>
#include <cmath>

namespace busbar::host {
namespace {

void appendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

const char* metricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::string formatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general);
  return std::string(buffer, result.ptr);
}

void PrometheusText::family(std::string_view name, std::string_view help, MetricType type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  appendEscaped(out_, help, /*quote=*/false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += metricTypeName(type);
  out_ += '\n';
}

void PrometheusText::series(std::string_view name, std::string_view suffix,
                            const MetricLabels& labels, const std::string* le) {
  out_ += name;
  out_ += suffix;
  if (labels.empty() && le == nullptr) return;
  out_ += '{';
  bool first = true;
  for (const auto& [label, value] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += label;
    out_ += "=\"";
    appendEscaped(out_, value, /*quote=*/true);
    out_ += '"';
  }
  if (le != nullptr) {
    if (!first) out_ += ',';
    out_ += "le=\"";
    out_ += *le;
    out_ += '"';
  }
  out_ += '}';
}

void PrometheusText::sample(std::string_view name, const MetricLabels& labels, double value) {
  series(name, "", labels, nullptr);
  out_ += ' ';
  out_ += formatMetricValue(value);
  out_ += '\n';
}

void PrometheusText::sample(std::string_view name, const MetricLabels& labels, uint64_t value) {
  series(name, "", labels, nullptr);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusText::histogram(std::string_view name, const MetricLabels& labels,
                               const std::vector<double>& bounds,
                               const std::vector<uint64_t>& counts, double sum) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    const std::string le = i < bounds.size() ? formatMetricValue(bounds[i]) : std::string("+Inf");
    series(name, "_bucket", labels, &le);
    out_ += ' ';
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  series(name, "_sum", labels, nullptr);
  out_ += ' ';
  out_ += formatMetricValue(sum);
  out_ += "\n";
  series(name, "_count", labels, nullptr);
  out_ += ' ';
  out_ += std::to_string(cumulative);
  out_ += '\n';
}

}  // namespace busbar::host
