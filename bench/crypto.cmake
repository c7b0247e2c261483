# Provenance costs (issue 4): SignObject / VerifyObject per second for a ~700-byte indicator, and
# sealing a TLP:RED object to two recipients. See bench/crypto_benchmark.cc.
liaison_cc_benchmark(NAME crypto_benchmark SRCS ${CMAKE_CURRENT_SOURCE_DIR}/crypto_benchmark.cc
  DEPS liaison_crypto)
