// The checks of a plugin file's ELF structure, made on its bytes before the dynamic loader sees
// it. dlopen trusts the file's headers: a shared object cut short (a copy still being written, a
// full disk) maps segments past the end of the file, and the first touch of such a page kills
// the process with SIGBUS. These checks refuse such a file with a message instead, and name a
// file of another kind, class, byte order or machine the way the loader's own errors do not.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace busbar::host {

// Reads `size` bytes at `offset` of the file into `out`. On success returns true; returns false
// when the file has fewer bytes there.
using ReadAt = std::function<bool(uint64_t offset, size_t size, void* out)>;

// Empty when a file of `file_size` bytes, read through `read_at`, is a complete ELF shared object
// this process can load: an ELF header of this machine's class, byte order and architecture, of
// type shared object, whose program headers, loadable segments, section header table and
// sections all lie inside the file. Else what is wrong, ending in the fix (without the path).
std::string elfProblem(uint64_t file_size, const ReadAt& read_at);

// elfProblem() of the file at `path`; a file that cannot be opened or read is a problem too.
std::string elfFileProblem(const std::string& path);

}  // namespace busbar::host
