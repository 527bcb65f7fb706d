// A small forward-auth verify service in Go's net/http, standing in for the
// Authelia / oauth2-proxy / Authentik peers (Go programs) behind nginx
// auth_request: it reads the session cookie, looks it up in memory and answers
// 200 with the identity headers, or 401.
//
//	go run verify.go -listen 127.0.0.1:PORT -session TOKEN
package main

import (
	"flag"
	"log"
	"net/http"
	"sync"
)

type identity struct{ user, tenant, role string }

func main() {
	listen := flag.String("listen", "127.0.0.1:9091", "listen address")
	session := flag.String("session", "", "the one valid session token")
	flag.Parse()
	var sessions sync.Map
	sessions.Store(*session, identity{"owner@bench.example", "bench", "owner"})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("gw_session")
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		v, ok := sessions.Load(c.Value)
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id := v.(identity)
		h := w.Header()
		h.Set("Remote-User", id.user)
		h.Set("Remote-Groups", id.tenant)
		h.Set("Remote-Role", id.role)
		w.WriteHeader(http.StatusOK)
	})
	log.Fatal(http.ListenAndServe(*listen, nil))
}
