package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/schemas"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestSchemasPythonCodeBinding puts a Python36 code binding of a schema, describes it,
// downloads its zip, and runs the generated marshaller on an event; other languages are refused.
func TestSchemasPythonCodeBinding(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	sc := schemas.NewFromConfig(srv.Clients().Config)
	ctx := context.Background()
	if _, err := sc.CreateRegistry(ctx, &schemas.CreateRegistryInput{RegistryName: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	content := `{"openapi":"3.0.0","info":{"version":"1.0.0","title":"OrderPlaced"},"paths":{},"components":{"schemas":{
"AWSEvent":{"type":"object","x-amazon-events-source":"shop.orders","x-amazon-events-detail-type":"Order Placed","required":["detail","source"],
 "properties":{"detail":{"$ref":"#/components/schemas/OrderPlaced"},"source":{"type":"string"},"time":{"type":"string","format":"date-time"},"detail-type":{"type":"string"}}},
"OrderPlaced":{"type":"object","properties":{"orderId":{"type":"string"},"total":{"type":"number"},"items":{"type":"array","items":{"$ref":"#/components/schemas/Item"}}}},
"Item":{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"number"}}}}}}`
	name := "shop.orders@OrderPlaced"
	if _, err := sc.CreateSchema(ctx, &schemas.CreateSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String(name),
		Type: "OpenApi3", Content: aws.String(content)}); err != nil {
		t.Fatal(err)
	}
	_, err := sc.GetCodeBindingSource(ctx, &schemas.GetCodeBindingSourceInput{RegistryName: aws.String("shop"), SchemaName: aws.String(name), Language: aws.String("Python36")})
	wantSchemasError(t, err, "NotFoundException", http.StatusNotFound)
	_, err = sc.PutCodeBinding(ctx, &schemas.PutCodeBindingInput{RegistryName: aws.String("shop"), SchemaName: aws.String(name), Language: aws.String("Java8")})
	wantSchemasError(t, err, "BadRequestException", http.StatusBadRequest)
	_, err = sc.PutCodeBinding(ctx, &schemas.PutCodeBindingInput{RegistryName: aws.String("shop"), SchemaName: aws.String(name), Language: aws.String("Cobol")})
	wantSchemasError(t, err, "BadRequestException", http.StatusBadRequest)

	put, err := sc.PutCodeBinding(ctx, &schemas.PutCodeBindingInput{RegistryName: aws.String("shop"), SchemaName: aws.String(name), Language: aws.String("Python36")})
	if err != nil || put.Status != "CREATE_COMPLETE" || aws.ToString(put.SchemaVersion) != "1" {
		t.Fatalf("PutCodeBinding = %+v, %v", put, err)
	}
	d, err := sc.DescribeCodeBinding(ctx, &schemas.DescribeCodeBindingInput{RegistryName: aws.String("shop"), SchemaName: aws.String(name), Language: aws.String("Python36")})
	if err != nil || d.Status != "CREATE_COMPLETE" || d.CreationDate == nil {
		t.Fatalf("DescribeCodeBinding = %+v, %v", d, err)
	}
	src, err := sc.GetCodeBindingSource(ctx, &schemas.GetCodeBindingSourceInput{RegistryName: aws.String("shop"), SchemaName: aws.String(name), Language: aws.String("Python36")})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(src.Body), int64(len(src.Body)))
	if err != nil {
		t.Fatalf("the binding is not a zip: %v", err)
	}
	dir := t.TempDir()
	var files []string
	for _, f := range zr.File {
		files = append(files, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(files)
	want := []string{"schema/shop/orders/orderplaced/AWSEvent.py", "schema/shop/orders/orderplaced/Item.py", "schema/shop/orders/orderplaced/OrderPlaced.py",
		"schema/shop/orders/orderplaced/__init__.py", "schema/shop/orders/orderplaced/marshaller.py"}
	if strings.Join(files, ",") != strings.Join(want, ",") {
		t.Fatalf("zip files = %v, want %v", files, want)
	}
	// The classes work: an event unmarshalls into AWSEvent with its typed detail, and back.
	for _, pkg := range []string{"schema", "schema/shop", "schema/shop/orders"} {
		if err := os.WriteFile(filepath.Join(dir, pkg, "__init__.py"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `
from schema.shop.orders.orderplaced.marshaller import Marshaller
from schema.shop.orders.orderplaced import AWSEvent, OrderPlaced, Item
ev = Marshaller.unmarshall({"source": "shop.orders", "detail-type": "Order Placed", "time": "2026-12-05T10:00:00Z",
    "detail": {"orderId": "o-1", "total": 12.5, "items": [{"sku": "a", "qty": 2}]}})
assert isinstance(ev, AWSEvent), type(ev)
assert isinstance(ev.detail, OrderPlaced)
assert isinstance(ev.detail.items[0], Item) and ev.detail.items[0].sku == "a"
assert ev.time.year == 2026
out = Marshaller.marshall(ev)
assert out["detail"]["orderId"] == "o-1" and out["detail-type"] == "Order Placed", out
print("ok")
`
	cmd := exec.Command("/usr/bin/python3", "-c", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("generated Python: %v\n%s", err, out)
	}
}
