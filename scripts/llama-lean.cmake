# Included by CMake at llama.cpp's project() call when setup.sh builds llama-cpp-python
# (CMAKE_PROJECT_llama.cpp_INCLUDE). llama-cpp-python forces LLAMA_BUILD_COMMON on, yet its
# package loads only libllama and ggml: llama.cpp's "common" library and the HTTP library it
# pulls in were about half of the compile (416 of 798 CPU-seconds measured with ninja's log)
# and end up unused. Turning the option off here, after llama-cpp-python has forced it and
# before llama.cpp reads it, builds what the package loads and nothing else.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama: build common utils library" FORCE)
