package testop

import (
	"html/template"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// loginPage is the form a user's browser would show; a test's client fills it in.
var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>Sign in</title></head>
<body>
<form method="POST" action="/login/username">
<input type="hidden" name="id" value="{{.ID}}">
<label for="username">Username</label><input id="username" name="username">
<label for="password">Password</label><input id="password" name="password" type="password">
<p>{{.Error}}</p>
<button type="submit">Sign in</button>
</form>
</body></html>
`))

// newLogin serves the login step of the authorization code flow: GET shows the form
// for the authorization request (the OP redirects there with ?authRequestID=), POST
// checks the user and sends the browser back to the OP, which issues the code.
func newLogin(st *storage, provider *op.Provider) http.Handler {
	callback := op.AuthCallbackURL(provider)
	issuer := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	render := func(w http.ResponseWriter, id, msg string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = loginPage.Execute(w, struct{ ID, Error string }{id, msg})
	}
	return issuer.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch r.Method {
		case http.MethodGet:
			render(w, r.FormValue("authRequestID"), "")
		case http.MethodPost:
			id := r.FormValue("id")
			if err := st.CheckUsernamePassword(r.FormValue("username"), r.FormValue("password"), id); err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				render(w, id, err.Error())
				return
			}
			http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}
