#include "common/cpus.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

namespace mast {

std::vector<int> UsableCpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
  }
  if (cpus.empty()) {
    const int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int cpu = 0; cpu < n; ++cpu) cpus.push_back(cpu);
  }
  return cpus;
}

bool PinCurrentThread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

namespace {

// The first line of `path`, if the file can be read.
std::optional<std::string> FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

// CPUs' worth of `quota` microseconds per `period` (both as the files
// write them); nullopt for "max", -1 (no quota) or anything unreadable.
std::optional<double> CpusOf(const std::string& quota, const std::string& period) {
  try {
    const double q = std::stod(quota), p = std::stod(period);
    if (!(q > 0) || !(p > 0)) return std::nullopt;
    return q / p;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// cgroup v2: "max 100000" (no limit) or "200000 100000".
std::optional<double> ParseCpuMax(const std::string& text) {
  std::istringstream in(text);
  std::string quota, period;
  if (!(in >> quota >> period)) return std::nullopt;
  return CpusOf(quota, period);
}

}  // namespace

std::optional<double> CgroupCpuQuota(const std::string& root, const std::string& self_cgroup) {
  // Lines of /proc/self/cgroup: "0::/path" (v2), "4:cpu,cpuacct:/path" (v1).
  std::istringstream lines(self_cgroup);
  for (std::string line; std::getline(lines, line);) {
    const size_t first = line.find(':');
    const size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (path == "/") path.clear();
    if (controllers.empty()) {  // v2: the process's own group, or the namespace's root
      for (const std::string& dir : {root + path, root}) {
        if (auto text = FirstLine(dir + "/cpu.max")) return ParseCpuMax(*text);
      }
      continue;
    }
    std::istringstream names(controllers);
    bool cpu = false;
    for (std::string name; std::getline(names, name, ',');) cpu = cpu || name == "cpu";
    if (!cpu) continue;
    for (const std::string& dir : {root + "/" + controllers + path, root + "/" + controllers,
                                   root + "/cpu" + path, root + "/cpu"}) {
      auto quota = FirstLine(dir + "/cpu.cfs_quota_us");
      auto period = FirstLine(dir + "/cpu.cfs_period_us");
      if (quota && period) return CpusOf(*quota, *period);
    }
  }
  return std::nullopt;
}

std::optional<double> CgroupCpuQuota() {
  std::ifstream in("/proc/self/cgroup");
  std::stringstream text;
  text << in.rdbuf();
  return CgroupCpuQuota("/sys/fs/cgroup", text.str());
}

}  // namespace mast
