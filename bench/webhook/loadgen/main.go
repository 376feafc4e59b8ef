// An open-loop HTTPS load generator for the webhook bench, in Go so the generator's own CPU use
// (a fraction of Node's per request) does not compete with the server under test on a small
// machine. Requests are due at evenly spaced times (rate per second) whatever the answers; each
// latency runs from its due time to the last byte of the answer, so queueing in the client or the
// server is counted (no coordinated omission). At most `connections` requests are in flight, one
// per keep-alive connection; a due request waits for a free one.
//
// Why not Node (the first version was paced.ts in Node): on the two shared CPUs of the machines
// this project is measured on, a Node HTTPS client spent some 200-300 us of CPU per request beside
// the server's 300 us, and its own timer lateness reached 2.2 ms at p99, which showed in every
// latency it measured. Why not autocannon's overallRate: see paced.ts.
//
// Usage: loadgen PORT BODY_FILE CA_FILE RATE SECONDS CONNECTIONS [WARMUP_SECONDS]
// Prints `warm` after an unmeasured warm-up (2 s unless given), then one JSON line (PacedResult in
// paced.ts).
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

type result struct {
	Sent            int     `json:"sent"`
	Completed       int     `json:"completed"`
	Errors          int     `json:"errors"`
	Rps             float64 `json:"rps"`
	P50             float64 `json:"p50"`
	P99             float64 `json:"p99"`
	Max             float64 `json:"max"`
	DispatchLateP99 float64 `json:"dispatchLateP99"`
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return -1
	}
	i := int(q * float64(len(sorted)))
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func run(client *http.Client, url string, body []byte, rate float64, seconds float64, connections int) result {
	total := int(rate*seconds + 0.5)
	interval := time.Duration(float64(time.Second) / rate)
	due := make(chan time.Time, total)
	var mu sync.Mutex
	latencies := make([]float64, 0, total)
	lateness := make([]float64, 0, total)
	failed := 0
	var wg sync.WaitGroup
	for w := 0; w < connections; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for at := range due {
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				ok := err == nil
				if ok {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					ok = err == nil && resp.StatusCode == 200
				}
				took := time.Since(at)
				mu.Lock()
				if ok {
					latencies = append(latencies, ms(took))
				} else {
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	for i := 0; i < total; i++ {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait)
		}
		lateness = append(lateness, ms(time.Since(at)))
		due <- at
	}
	close(due)
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	sort.Float64s(latencies)
	sort.Float64s(lateness)
	r := result{Sent: total, Completed: len(latencies), Errors: failed, Rps: float64(len(latencies)) / elapsed,
		P50: quantile(latencies, 0.5), P99: quantile(latencies, 0.99), DispatchLateP99: quantile(lateness, 0.99)}
	r.Max = quantile(latencies, 1)
	return r
}

func main() {
	if len(os.Args) != 7 && len(os.Args) != 8 {
		fmt.Fprintln(os.Stderr, "usage: loadgen PORT BODY_FILE CA_FILE RATE SECONDS CONNECTIONS [WARMUP_SECONDS]")
		os.Exit(2)
	}
	warmup := 2.0
	if len(os.Args) == 8 {
		w, err := strconv.ParseFloat(os.Args[7], 64)
		must(err)
		warmup = w
	}
	body, err := os.ReadFile(os.Args[2])
	must(err)
	caPEM, err := os.ReadFile(os.Args[3])
	must(err)
	rate, err := strconv.ParseFloat(os.Args[4], 64)
	must(err)
	seconds, err := strconv.ParseFloat(os.Args[5], 64)
	must(err)
	connections, err := strconv.Atoi(os.Args[6])
	must(err)
	if rate <= 0 || seconds < 0 || connections < 1 {
		must(fmt.Errorf("RATE must be > 0, SECONDS >= 0 and CONNECTIONS >= 1 (got %v, %v, %v)", rate, seconds, connections))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		must(fmt.Errorf("no certificate in %s", os.Args[3]))
	}
	transport := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12},
		MaxConnsPerHost:     connections,
		MaxIdleConnsPerHost: connections,
		// HTTP/1.1 keep-alive, as the API server's webhook client and autocannon use
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	url := "https://127.0.0.1:" + os.Args[1] + "/mutate"
	if warmup > 0 {
		// fresh connections and TLS sessions, unmeasured
		run(client, url, body, rate, warmup, connections)
	}
	fmt.Println("warm")
	out, err := json.Marshal(run(client, url, body, rate, seconds, connections))
	must(err)
	fmt.Println(string(out))
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}
