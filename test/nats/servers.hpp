// NATS servers for one test, started and stopped through scripts/nats-cluster in a folder of
// their own, on free loopback ports; only their own pids are ever signalled.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace conveyor::test {

class nats_servers {
public:
    // Starts count servers (3: a cluster whose streams may have 3 replicas). Extra
    // arguments go to the script (--user NAME --password SECRET).
    explicit nats_servers(int count = 1, const std::vector<std::string>& extra = {});
    ~nats_servers(); // stops them and removes their folder
    nats_servers(const nats_servers&) = delete;
    nats_servers& operator=(const nats_servers&) = delete;

    // "nats://127.0.0.1:PORT" of server i (from 0).
    const std::string& url(std::size_t i = 0) const { return urls_.at(i); }
    // "127.0.0.1:PORT" of server i, for a nats:// URI's server list.
    std::string host_port(std::size_t i = 0) const;
    // A URI on subject with server first and the others after, then the query.
    std::string uri(const std::string& subject, std::size_t first = 0,
                    const std::string& query = {}) const;
    std::size_t size() const noexcept { return urls_.size(); }
    pid_t pid(std::size_t i) const;
    // Sends signal to server i (SIGKILL: the test kills it; SIGSTOP/SIGCONT: it hangs).
    void signal(std::size_t i, int number) const;
    // Starts server i again after it died, on its ports and with its stored streams.
    void restart(std::size_t i);
    // The script's name for server i ("s1"...), as JetStream names leaders.
    static std::string name(std::size_t i) { return "s" + std::to_string(i + 1); }

private:
    std::string dir_;
    std::vector<std::string> urls_;
};

// Whether pid is gone or a zombie (killed, and not reaped by an init that may never reap).
bool process_gone(pid_t pid);

// A subject (and so a stream) no other test or run uses.
std::string unique_subject(const std::string& purpose);

} // namespace conveyor::test
