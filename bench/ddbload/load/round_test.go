package load

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memTables is an in-memory DynamoDB shared by every fakeClient of a test. A new table is
// CREATING until it has been described once; a Query page holds at most pageItems items.
type memTables struct {
	mu        sync.Mutex
	tables    map[string]*memTable
	pageItems int
	// lose makes every tenth PutItem succeed without storing the item.
	lose bool
	puts int
	// overlap makes every page after the first start at the previous page's last item.
	overlap bool
}

type memTable struct {
	described bool
	items     map[Key]string
}

func newMemTables() *memTables {
	return &memTables{tables: map[string]*memTable{}, pageItems: 700}
}

func (m *memTables) dial(Endpoint) Client { return fakeClient{m} }

type fakeClient struct{ m *memTables }

func (c fakeClient) table(name string) (*memTable, error) {
	t, ok := c.m.tables[name]
	if !ok {
		return nil, fmt.Errorf("ResourceNotFoundException: %s", name)
	}
	return t, nil
}

func (c fakeClient) ListTables(context.Context) error { return nil }

func (c fakeClient) CreateTable(_ context.Context, name string, _ bool) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	if _, ok := c.m.tables[name]; ok {
		return fmt.Errorf("ResourceInUseException: %s", name)
	}
	c.m.tables[name] = &memTable{items: map[Key]string{}}
	return nil
}

func (c fakeClient) TableStatus(_ context.Context, name string) (string, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	t, err := c.table(name)
	if err != nil {
		return "", err
	}
	if !t.described {
		t.described = true
		return "CREATING", nil
	}
	return "ACTIVE", nil
}

func (c fakeClient) DeleteTable(_ context.Context, name string) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	if _, err := c.table(name); err != nil {
		return err
	}
	delete(c.m.tables, name)
	return nil
}

func (c fakeClient) PutItem(_ context.Context, table string, key Key, payload string) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	t, err := c.table(table)
	if err != nil {
		return err
	}
	c.m.puts++
	if c.m.lose && c.m.puts%10 == 0 {
		return nil
	}
	t.items[key] = payload
	return nil
}

func (c fakeClient) GetItem(_ context.Context, table string, key Key) (int, bool, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	t, err := c.table(table)
	if err != nil {
		return 0, false, err
	}
	p, ok := t.items[key]
	return len(p), ok, nil
}

func (c fakeClient) Query(_ context.Context, table, pk string, start *Key) (Page, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	t, err := c.table(table)
	if err != nil {
		return Page{}, err
	}
	var sks []string
	for k := range t.items {
		if k.PK == pk && (start == nil || k.SK > start.SK || (c.m.overlap && k.SK == start.SK)) {
			sks = append(sks, k.SK)
		}
	}
	slices.Sort(sks)
	p := Page{Items: min(len(sks), c.m.pageItems)}
	if p.Items > 0 {
		p.First, p.Last = sks[0], sks[p.Items-1]
	}
	if p.Items < len(sks) {
		p.Next = &Key{PK: pk, SK: p.Last}
	}
	return p, nil
}

func smallConfig() Config {
	return Config{Phases: []string{"tables", "put", "get", "query"}, Duration: 50 * time.Millisecond, Clients: 4,
		ItemSize: 100, QueryItems: 2000, QueryItemSize: 10, QueryReads: 3, Tables: 10, Idle: time.Millisecond}
}

func TestRoundRunsEveryPhaseAndDeletesItsTables(t *testing.T) {
	t.Parallel()
	m := newMemTables()
	r, err := Round(t.Context(), Endpoint{Name: "fake"}, smallConfig(), m.dial)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tables.Count != 10 || r.Tables.Elapsed <= 0 {
		t.Errorf("tables: %+v, want 10 created in some time", r.Tables)
	}
	if r.Put.Items == 0 || r.Get.Items == 0 {
		t.Errorf("put %d items, got %d; want some of each", r.Put.Items, r.Get.Items)
	}
	if r.Query.Items != 2000 || r.Query.Pages != 3 || len(r.Query.Reads) != 3 {
		t.Errorf("query: %d items in %d pages, %d reads; want 2000 in 3, 3 reads", r.Query.Items, r.Query.Pages, len(r.Query.Reads))
	}
	if len(m.tables) != 0 {
		t.Errorf("left %d tables behind", len(m.tables))
	}
}

func TestAStartedServerKeepsTheRoundsTables(t *testing.T) {
	t.Parallel()
	m := newMemTables()
	c := smallConfig()
	c.Phases = []string{"tables", "put"}
	if _, err := Round(t.Context(), Endpoint{Started: true}, c, m.dial); err != nil {
		t.Fatal(err)
	}
	if len(m.tables) != 11 { // the tables phase's and the put phase's
		t.Errorf("%d tables remain, want 11 for the stopped server to take with it", len(m.tables))
	}
}

func TestGetPhaseReadsThePrefillWithoutAPutPhase(t *testing.T) {
	t.Parallel()
	c := smallConfig()
	c.Phases, c.Prefill = []string{"get"}, 50
	r, err := Round(t.Context(), Endpoint{}, c, newMemTables().dial)
	if err != nil {
		t.Fatal(err)
	}
	if r.Get.Items == 0 || r.Put != nil {
		t.Errorf("get %d items, put phase %v; want gets and no put phase", r.Get.Items, r.Put)
	}
}

func TestGetPhaseNeedsItems(t *testing.T) {
	t.Parallel()
	c := smallConfig()
	c.Phases = []string{"get"}
	if _, err := Round(t.Context(), Endpoint{}, c, newMemTables().dial); err == nil {
		t.Fatal("a get phase with nothing to read succeeded")
	}
}

func TestGetPhaseFailsOnAnItemTheServerLost(t *testing.T) {
	t.Parallel()
	m := newMemTables()
	m.lose = true
	c := smallConfig()
	c.Phases, c.Duration = []string{"put", "get"}, time.Second
	_, err := Round(t.Context(), Endpoint{}, c, m.dial)
	if err == nil || !strings.Contains(err.Error(), "not found, though PutItem succeeded") {
		t.Fatalf("err = %v, want the lost item reported", err)
	}
}

func TestQueryPhaseFailsWhenPagesOverlap(t *testing.T) {
	t.Parallel()
	m := newMemTables()
	m.overlap = true
	c := smallConfig()
	c.Phases = []string{"query"}
	_, err := Round(t.Context(), Endpoint{}, c, m.dial)
	if err == nil || !strings.Contains(err.Error(), "page 2 starts at sort-0000699, not after sort-0000699") {
		t.Fatalf("err = %v, want the overlapping page reported", err)
	}
}

func TestParseTargets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		specs []string
		pids  string
		want  []Target
		err   bool
	}{
		{name: "an endpoint is named for its host unless named", specs: []string{"http://127.0.0.1:8000", "k=http://h:1/"},
			want: []Target{{Endpoint: Endpoint{Name: "127.0.0.1:8000", URL: "http://127.0.0.1:8000"}}, {Endpoint: Endpoint{Name: "k", URL: "http://h:1"}}}},
		{name: "a command keeps its own equals signs", specs: []string{"kiri=./kiri --addr 127.0.0.1:{port} --sync=normal"},
			want: []Target{{Endpoint: Endpoint{Name: "kiri"}, Command: "./kiri --addr 127.0.0.1:{port} --sync=normal"}}},
		{name: "pids for named endpoints", specs: []string{"a=http://h:1", "b=http://h:2"}, pids: "b=7,a=5",
			want: []Target{{Endpoint: Endpoint{Name: "a", URL: "http://h:1", PID: 5}}, {Endpoint: Endpoint{Name: "b", URL: "http://h:2", PID: 7}}}},
		{name: "bare pid with one target", specs: []string{"a=http://h:1"}, pids: "9",
			want: []Target{{Endpoint: Endpoint{Name: "a", URL: "http://h:1", PID: 9}}}},
		{name: "a command needs a name", specs: []string{"node cli.js --port={port}"}, err: true},
		{name: "an endpoint with a path is no endpoint", specs: []string{"http://h:1/dynamodb"}, err: true},
		{name: "bare pid with two targets", specs: []string{"a=http://h:1", "b=http://h:2"}, pids: "9", err: true},
		{name: "pid of a started target", specs: []string{"a=run {port}"}, pids: "a=9", err: true},
		{name: "name used twice", specs: []string{"a=http://h:1", "a=run {port}"}, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseTargets(tc.specs, tc.pids)
			if tc.err {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", got)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestStartServerTimesTheFirstAnswerAndStopsTheServer(t *testing.T) {
	t.Parallel()
	tries := 0
	var seen string
	ask := func(_ context.Context, url string) error {
		if tries++; tries < 3 {
			return errors.New("connection refused")
		}
		seen = url
		return nil
	}
	// The command writes what {port} and {dir} became into the data directory, then waits as a
	// server would.
	srv, st, err := startServer(t.Context(), `echo {port} {dir} $PORT $DIR > {dir}/args; exec sleep 60`, ask, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st.Ready <= 0 || tries != 3 {
		t.Errorf("ready after %s and %d probes, want a time and 3", st.Ready, tries)
	}
	var b []byte
	for deadline := time.Now().Add(10 * time.Second); len(b) == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		b, _ = os.ReadFile(filepath.Join(srv.dir, "data", "args"))
	}
	f := strings.Fields(string(b))
	if len(f) != 4 || seen != "http://127.0.0.1:"+f[0] || f[1] != filepath.Join(srv.dir, "data") || f[2] != f[0] || f[3] != f[1] {
		t.Errorf("the command saw %q and the probe asked %s; want the port and data directory in both places", b, seen)
	}
	srv.stop()
	select {
	case <-srv.done:
	default:
		t.Error("the server still runs after stop")
	}
	if _, err := os.Stat(srv.dir); !os.IsNotExist(err) {
		t.Errorf("its directory is still there: %v", err)
	}
}

func TestStartServerReportsACommandThatExits(t *testing.T) {
	t.Parallel()
	ask := func(context.Context, string) error { return errors.New("connection refused") }
	_, _, err := startServer(t.Context(), "echo no such option >&2; exit 3", ask, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited before it answered") || !strings.Contains(err.Error(), "no such option") {
		t.Fatalf("err = %v, want the exit and the command's output", err)
	}
}
