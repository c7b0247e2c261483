liaison_cc_benchmark(NAME stix_benchmark SRCS ${CMAKE_CURRENT_SOURCE_DIR}/stix_benchmark.cc
  DEPS liaison_stix)
