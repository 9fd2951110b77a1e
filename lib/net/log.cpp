#include "net/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

namespace wspush {

void init_logging(std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("wspush");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace wspush
