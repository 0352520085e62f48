// Command ddbload measures DynamoDB endpoints side by side with concurrent aws-sdk-go-v2
// clients:
//
//   - tables: the server's VmRSS after it idled (-idle, 2 s), then creating 100 tables
//     (on-demand, from 16 clients, each waited for until ACTIVE), then its VmRSS after it idled
//     with them, and the CPU time it spent idling so;
//   - put: items/s of PutItem calls (one new 200-byte item each) from 16 clients;
//   - get: items/s of strongly consistent GetItem calls from 16 clients, of random items the
//     put phase wrote, each checked to be there whole;
//   - query: a Query of one partition of 2,000 items of 1 KiB, followed page by page at the
//     server's default page size (DynamoDB's 1 MB, so 3 pages) to its end, timed per full
//     read, 20 reads one after another; every read must return all 2,000 items, each page
//     starting after the one before ended;
//   - start, for a target the tool starts itself: the time from starting its command to the
//     first answered request (ListTables), and the server's VmRSS then.
//
// Each round runs every target once, in an order that rotates per round, in a fresh driver
// process, and the run ends with each target's medians, so that one run on a shared machine
// compares like with like. A target is a running endpoint (name=URL) or a command that starts
// one (name=COMMAND), started anew for every round, with {port} replaced by a free loopback
// port and {dir} by an empty data directory, and stopped (SIGTERM to its process group) after:
//
//	go run ./bench/ddbload -rounds 3 -duration 4s \
//	  -target 'dynalite-mem=node /path/to/node_modules/dynalite/cli.js --host 127.0.0.1 --port {port}' \
//	  -target 'dynalite-disk=node /path/to/node_modules/dynalite/cli.js --host 127.0.0.1 --port {port} --path {dir}' \
//	  -target 'kiri=/path/to/kiri --addr 127.0.0.1:{port} --data-dir {dir} --log-level warn' \
//	  -target other=http://127.0.0.1:8000 -pid other=2345
//
// A command should be the server, or a script that ends by exec'ing it, not a launcher such as
// go run or npx: the process started is the one whose CPU time and VmRSS are read (the tool
// warns when it has children). With -pid name=PID,... a running endpoint's CPU time per item
// and VmRSS are reported too; without, its tables phase reports only how long the tables took.
// Tables are named ddbload-*; a round deletes its own at its end, except on a server it
// started, which takes them with it.
//
// Peers to compare with:
//
//	npm i dynalite       # dynalite 4.0.0, in memory, or on disk (LevelDB) with --path DIR
//	node node_modules/dynalite/cli.js --host 127.0.0.1 --port 8000 [--path DIR]
//
// dynalite keeps a new table CREATING for 500 ms (--createTableMs), so its tables phase
// takes at least that long per table each client creates.
package main

import "github.com/kiri-run/kiri/bench/ddbload/load"

func main() { load.Main(dial) }
