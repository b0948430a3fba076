package e2e

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// haproxyStats reads an HAProxy's counters from its stats socket.
type haproxyStats struct {
	socket string
	addr   string // where the HAProxy listens
}

// serverCounts are one server's counters from `show stat`: its current sessions
// (scur: TCP connections in mode tcp, requests being served in mode http) and its
// sessions since the start (stot).
type serverCounts struct{ current, total int }

// servers answers `show stat` with each server's counts, by server name.
func (s haproxyStats) servers() (map[string]serverCounts, error) {
	answer, err := s.ask("show stat")
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(answer, "# "))).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("show stat: %w", err)
	}
	if len(rows) == 0 {
		return nil, errors.New("show stat: no header")
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	out := map[string]serverCounts{}
	for _, r := range rows[1:] {
		name := r[col["svname"]]
		if name == "FRONTEND" || name == "BACKEND" {
			continue
		}
		cur, err1 := strconv.Atoi(r[col["scur"]])
		tot, err2 := strconv.Atoi(r[col["stot"]])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("show stat, server %s: %w", name, err)
		}
		out[name] = serverCounts{current: cur, total: tot}
	}
	return out, nil
}

// sessionsOf counts HAProxy's current sessions (`show sess`) by server, keeping only
// those whose client's port is in from.
func (s haproxyStats) sessionsOf(from map[int]bool) (map[string]int, error) {
	answer, err := s.ask("show sess")
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for line := range strings.Lines(answer) {
		var src, srv string
		for field := range strings.FieldsSeq(line) {
			if v, ok := strings.CutPrefix(field, "src="); ok {
				src = v
			} else if v, ok := strings.CutPrefix(field, "srv="); ok {
				srv = v
			}
		}
		_, port, err := net.SplitHostPort(src)
		if err != nil {
			continue // not a TCP client (the stats socket's own session)
		}
		if p, err := strconv.Atoi(port); err == nil && from[p] {
			out[srv]++
		}
	}
	return out, nil
}

// ask sends one command to the stats socket and returns the answer, which ends when
// HAProxy closes the connection.
func (s haproxyStats) ask(command string) (string, error) {
	c, err := net.DialTimeout("unix", s.socket, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(c, command+"\n"); err != nil {
		return "", fmt.Errorf("%s: %w", command, err)
	}
	answer, err := io.ReadAll(c)
	if err != nil {
		return "", fmt.Errorf("%s: %w", command, err)
	}
	return string(answer), nil
}

// tcpPortsTo lists the local ports of process pid's TCP connections to remote (an
// IPv4 "host:port"), read from /proc: its sockets' inodes, then the kernel's table.
func tcpPortsTo(pid int, remote string) (map[int]bool, error) {
	host, port, err := net.SplitHostPort(remote)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host).To4()
	p, err := strconv.Atoi(port)
	if ip == nil || err != nil {
		return nil, fmt.Errorf("not an IPv4 address: %s", remote)
	}
	// /proc/net/tcp writes the address as the little-endian hex of its 32 bits.
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], p)
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if inode, ok := strings.CutPrefix(target, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	table, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return nil, err
	}
	ports := map[int]bool{}
	for line := range strings.Lines(string(table)) {
		f := strings.Fields(line)
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(f) < 10 || f[2] != want || !inodes[f[9]] {
			continue
		}
		_, local, _ := strings.Cut(f[1], ":")
		if n, err := strconv.ParseInt(local, 16, 32); err == nil {
			ports[int(n)] = true
		}
	}
	return ports, nil
}
