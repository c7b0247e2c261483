# The pattern index load benchmark (issue 3): see bench/pattern_benchmark.cc for flags.
liaison_cc_benchmark(NAME pattern_benchmark
  SRCS ${CMAKE_CURRENT_SOURCE_DIR}/pattern_benchmark.cc DEPS liaison_pattern)
