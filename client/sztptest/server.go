package sztptest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/internal/httpx"
	"github.com/sztp/sztp/trust"
)

// Options configure a Server.
type Options struct {
	// Certificate is the server's TLS certificate (with chain). Required.
	Certificate tls.Certificate
	// ClientCAs verifies device certificates; nil requests a certificate
	// but does not verify it (the serial number is still read from it).
	ClientCAs *x509.CertPool
	// Password, when set, requires HTTP Basic auth with username = the
	// device serial number and this password.
	Password string
	// ListenIP is the loopback address to listen on (default 127.0.0.1);
	// redirect lists need distinct addresses, since address is their key.
	ListenIP string
	// Listener, when set, is served instead of a new loopback listener
	// (e.g. one in a test network namespace). The server closes it.
	Listener net.Listener
	// OnReport, when set, is called with every accepted progress report,
	// in order, before the server answers it.
	OnReport func(Report)
	Logger   *slog.Logger
	// Capacity, when set, limits the server like a real one under load.
	Capacity *Capacity
	// IdleTimeout closes a kept-alive connection idle this long (zero:
	// 10 s; negative: one request per connection, "Connection: close").
	IdleTimeout time.Duration
}

// Response is what the server answers to get-bootstrapping-data.
type Response struct {
	// Conveyed is sent as unsigned conveyed information, encoded in
	// ContentEncoding and wrapped in a ContentInfo of the matching type.
	Conveyed        *conveyed.ConveyedInformation
	ContentEncoding conveyed.Encoding
	// Output, when set, is sent as is (e.g. signed or encrypted artifacts).
	Output *conveyed.GetBootstrappingDataOutput
	// Build, when set, makes the output from the request (e.g. a voucher
	// carrying the request's nonce). It wins over Output and Conveyed.
	Build func(in *conveyed.GetBootstrappingDataInput) (*conveyed.GetBootstrappingDataOutput, error)
	// ReportingLevel is set on outputs built from Conveyed.
	ReportingLevel conveyed.ReportingLevel
	// Fault, when set, makes get-bootstrapping-data misbehave.
	Fault *Fault
	// ReportStatus overrides the 204 answer to some progress types.
	ReportStatus map[conveyed.ProgressType]int
	// ReportDrop reads the first N reports of a type and closes the
	// connection without answering or recording them, as a server whose
	// idle close crossed the request on the wire (the Request is kept,
	// with Status 0).
	ReportDrop map[conveyed.ProgressType]int
	// CSR, when set, enrols an LDevID (RFC 9646) instead (csr.go).
	CSR *CSRFlow
}

// Fault is a misbehaviour.
type Fault struct {
	Status     int           // answer with this HTTP status (and a RESTCONF error body)
	RetryAfter string        // Retry-After header value with Status
	Location   string        // Location header with Status (3xx tests)
	Body       string        // with Status, this body as is instead of a RESTCONF error
	Stall      time.Duration // wait this long before answering (or until the client gives up)
	Truncate   bool          // send a Content-Length larger than the body
	Malformed  bool          // send a body that is not a valid document
	// Count limits the fault to the first Count requests (0: every request).
	Count int
	used  int
}

// Request is one RPC the server received.
type Request struct {
	Time    time.Time
	RPC     string // "get-bootstrapping-data" or "report-progress"
	Serial  string // from the client certificate, else the Basic user
	HasCert bool
	// Resumed is true when the request came over a TLS session resumed
	// from an earlier connection (no client signature in its handshake).
	Resumed  bool
	User     string // Basic auth username ("" when none)
	HasBasic bool
	// ContentType and Accept as received.
	ContentType, Accept string
	GBD                 *conveyed.GetBootstrappingDataInput
	Report              *conveyed.ReportProgressInput
	Status              int
}

// Report is a progress report the server accepted, in arrival order.
type Report struct {
	Time         time.Time
	Serial       string
	ProgressType conveyed.ProgressType
	Message      string
}

// Server is an in-process RFC 8572 bootstrap server on loopback.
type Server struct {
	// URL is https://127.0.0.1:PORT, the bootstrap server URI.
	URL  string
	Addr string // 127.0.0.1:PORT
	Host string // 127.0.0.1
	Port uint16

	opts     Options
	log      *slog.Logger
	hs       *httpx.Server
	done     chan struct{}
	once     sync.Once
	mu       sync.Mutex
	resp     map[string]*Response
	def      *Response
	requests []Request
	reports  []Report
	dropped  map[conveyed.ProgressType]int
	admit    *admission
}

// NewServer starts a server on 127.0.0.1 with an ephemeral port.
func NewServer(opts Options) (*Server, error) {
	if len(opts.Certificate.Certificate) == 0 {
		return nil, errors.New("sztptest: a server certificate is required")
	}
	ln := opts.Listener
	if ln == nil {
		ip := opts.ListenIP
		if ip == "" {
			ip = "127.0.0.1"
		}
		var err error
		if ln, err = net.Listen("tcp", net.JoinHostPort(ip, "0")); err != nil {
			return nil, fmt.Errorf("sztptest: %w", err)
		}
	}
	s := &Server{opts: opts, log: opts.Logger, resp: map[string]*Response{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	tcfg := &tls.Config{
		Certificates: []tls.Certificate{opts.Certificate},
		ClientAuth:   tls.RequestClientCert,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
	if opts.ClientCAs != nil {
		tcfg.ClientAuth = tls.RequireAndVerifyClientCert
		tcfg.ClientCAs = opts.ClientCAs
	}
	s.Addr = ln.Addr().String()
	host, port, _ := net.SplitHostPort(s.Addr)
	p, _ := strconv.Atoi(port)
	s.Host, s.Port = host, uint16(p)
	s.URL = "https://" + net.JoinHostPort(host, port)
	s.done = make(chan struct{})
	if opts.Capacity != nil {
		s.admit = newAdmission(*opts.Capacity)
	}
	s.hs = &httpx.Server{Handler: s, TLSConfig: tcfg, ReadTimeout: 10 * time.Second, IdleTimeout: opts.IdleTimeout}
	go s.hs.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() {
	s.once.Do(func() { close(s.done) })
	s.hs.Close()
}

// SetResponse sets the answer for a serial number; "" sets the default for
// serial numbers without their own.
func (s *Server) SetResponse(serial string, r *Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if serial == "" {
		s.def = r
		return
	}
	s.resp[serial] = r
}

// Requests returns the RPCs received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Reports returns the progress reports received so far, in order.
func (s *Server) Reports() []Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Report(nil), s.reports...)
}

// ProgressTypes returns the types of the reports received, in order.
func (s *Server) ProgressTypes() []conveyed.ProgressType {
	var out []conveyed.ProgressType
	for _, r := range s.Reports() {
		out = append(out, r.ProgressType)
	}
	return out
}

const (
	rpcPrefix = "/operations/" + conveyed.ModuleBootstrapServer + ":"
	rpcGBD    = "get-bootstrapping-data"
	rpcReport = "report-progress"
)

// ServeHTTPX implements the two RPCs.
func (s *Server) ServeHTTPX(w httpx.ResponseWriter, r *httpx.Request) {
	i := strings.Index(r.URL.Path, rpcPrefix)
	if i < 0 || !strings.HasPrefix(r.URL.Path, "/restconf") {
		restconfError(w, conveyed.JSON, httpx.StatusNotFound, "invalid-value", "unknown resource "+r.URL.Path)
		return
	}
	rpc := r.URL.Path[i+len(rpcPrefix):]
	if rpc != rpcGBD && rpc != rpcReport {
		restconfError(w, conveyed.JSON, httpx.StatusNotFound, "invalid-value", "unknown RPC "+rpc)
		return
	}
	if r.Method != "POST" {
		restconfError(w, conveyed.JSON, httpx.StatusMethodNotAllowed, "operation-not-supported", "use POST")
		return
	}
	var enc conveyed.Encoding
	switch ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) {
	case conveyed.JSON.MediaType():
		enc = conveyed.JSON
	case conveyed.XML.MediaType():
		enc = conveyed.XML
	default:
		restconfError(w, conveyed.JSON, httpx.StatusUnsupportedMedia, "invalid-value", "unsupported Content-Type "+r.Header.Get("Content-Type"))
		return
	}
	req := Request{Time: time.Now(), RPC: rpc, ContentType: r.Header.Get("Content-Type"), Accept: r.Header.Get("Accept")}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		req.HasCert = true
		req.Serial = lastSerial(r.TLS.PeerCertificates[0])
	}
	if r.TLS != nil {
		req.Resumed = r.TLS.DidResume
	}
	req.User, _, req.HasBasic = r.BasicAuth()
	if req.Serial == "" {
		req.Serial = req.User
	}
	status := s.handle(w, r, enc, &req)
	req.Status = status
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
}

// drop says whether this report of type pt is one resp.ReportDrop asks to
// drop, and counts it.
func (s *Server) drop(resp *Response, pt conveyed.ProgressType) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropped[pt] >= resp.ReportDrop[pt] {
		return false
	}
	if s.dropped == nil {
		s.dropped = map[conveyed.ProgressType]int{}
	}
	s.dropped[pt]++
	return true
}

func lastSerial(c *x509.Certificate) string {
	var sn string
	for _, atv := range c.Subject.Names {
		if atv.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 5}) {
			if v, ok := atv.Value.(string); ok {
				sn = v
			}
		}
	}
	return sn
}

func (s *Server) handle(w httpx.ResponseWriter, r *httpx.Request, enc conveyed.Encoding, req *Request) int {
	if s.opts.Password != "" {
		user, pw, ok := r.BasicAuth()
		if !ok || pw != s.opts.Password || (req.HasCert && user != req.Serial) {
			w.Header().Set("WWW-Authenticate", `Basic realm="sztp"`)
			return restconfError(w, enc, httpx.StatusUnauthorized, "access-denied", "authentication failed")
		}
	}
	if req.Serial == "" {
		return restconfError(w, enc, httpx.StatusUnauthorized, "access-denied", "no client certificate or user name")
	}
	if s.admit != nil {
		release, retryAfter := s.admit.enter(req.RPC == rpcReport)
		if release == nil {
			w.Header().Set("Retry-After", retryAfter)
			return restconfError(w, enc, httpx.StatusServiceUnavailable, "resource-denied", "server at capacity")
		}
		defer release()
	}
	body, err := io.ReadAll(io.LimitReader(r.BodyReader(), 1<<20))
	if err != nil {
		return restconfError(w, enc, httpx.StatusBadRequest, "malformed-message", err.Error())
	}
	s.mu.Lock()
	resp := s.resp[req.Serial]
	if resp == nil {
		resp = s.def
	}
	s.mu.Unlock()
	if resp == nil {
		return restconfError(w, enc, httpx.StatusNotFound, "data-missing", "no bootstrapping data for serial number "+req.Serial)
	}
	if req.RPC == rpcReport {
		in, err := conveyed.DecodeReportProgressInput(body, enc)
		if err != nil {
			return restconfError(w, enc, httpx.StatusBadRequest, "malformed-message", err.Error())
		}
		req.Report = in
		if s.drop(resp, in.ProgressType) && httpx.Abort(w) {
			s.log.Info("progress report dropped: connection closed without an answer", "serial", req.Serial, "type", in.ProgressType)
			return 0
		}
		if code, ok := resp.ReportStatus[in.ProgressType]; ok && code != httpx.StatusNoContent {
			return restconfError(w, enc, code, "operation-failed", "report refused by test")
		}
		rep := Report{Time: req.Time, Serial: req.Serial, ProgressType: in.ProgressType, Message: in.Message}
		s.mu.Lock()
		s.reports = append(s.reports, rep)
		s.mu.Unlock()
		if s.opts.OnReport != nil {
			s.opts.OnReport(rep)
		}
		s.log.Info("progress report", "serial", req.Serial, "type", in.ProgressType, "message", in.Message)
		w.WriteHeader(httpx.StatusNoContent)
		return httpx.StatusNoContent
	}
	in, err := conveyed.DecodeGetBootstrappingDataInput(body, enc)
	if err != nil {
		return restconfError(w, enc, httpx.StatusBadRequest, "malformed-message", err.Error())
	}
	req.GBD = in
	fault := s.takeFault(resp)
	if fault != nil {
		if code, done := s.misbehave(w, r, enc, fault); done {
			return code
		}
	}
	if resp.CSR != nil {
		return s.csr(w, enc, resp.CSR, in)
	}
	out, err := s.output(resp, in)
	if err != nil {
		return restconfError(w, enc, httpx.StatusInternalServerError, "operation-failed", err.Error())
	}
	data, err := out.Encode(enc)
	if err != nil {
		return restconfError(w, enc, httpx.StatusInternalServerError, "operation-failed", err.Error())
	}
	if fault != nil && (fault.Truncate || fault.Malformed) {
		return s.badBody(w, enc, fault, data)
	}
	w.Header().Set("Content-Type", enc.MediaType())
	w.WriteHeader(httpx.StatusOK)
	w.Write(data)
	return httpx.StatusOK
}

func (f *Fault) active() bool { return f.Count == 0 || f.used <= f.Count }

// takeFault counts a faulty request and returns the fault while it applies.
func (s *Server) takeFault(resp *Response) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := resp.Fault
	if f == nil {
		return nil
	}
	f.used++
	if !f.active() {
		return nil
	}
	return f
}

// misbehave applies a fault; done means the answer was written.
func (s *Server) misbehave(w httpx.ResponseWriter, r *httpx.Request, enc conveyed.Encoding, f *Fault) (int, bool) {
	if f.Stall > 0 {
		t := time.NewTimer(f.Stall)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.done:
			return 0, true
		}
	}
	if f.Status != 0 {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.Location != "" {
			w.Header().Set("Location", f.Location)
		}
		if f.Body != "" {
			w.WriteHeader(f.Status)
			io.WriteString(w, f.Body)
			return f.Status, true
		}
		return restconfError(w, enc, f.Status, "operation-failed", "fault injected by test"), true
	}
	return 0, false
}

func (s *Server) badBody(w httpx.ResponseWriter, enc conveyed.Encoding, f *Fault, data []byte) int {
	w.Header().Set("Content-Type", enc.MediaType())
	if f.Malformed {
		w.WriteHeader(httpx.StatusOK)
		io.WriteString(w, `{"ietf-sztp-bootstrap-server:output": {"conveyed-information": 42`)
		return httpx.StatusOK
	}
	// Truncated: promise the whole body, send half; the connection then
	// closes (one request per connection).
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(httpx.StatusOK)
	w.Write(data[:len(data)/2])
	return httpx.StatusOK
}

func (s *Server) output(resp *Response, in *conveyed.GetBootstrappingDataInput) (*conveyed.GetBootstrappingDataOutput, error) {
	switch {
	case resp.Build != nil:
		return resp.Build(in)
	case resp.Output != nil:
		return resp.Output, nil
	case resp.Conveyed != nil:
		doc, err := resp.Conveyed.Encode(resp.ContentEncoding)
		if err != nil {
			return nil, err
		}
		ct := trust.OIDSZTPConveyedInfoJSON
		if resp.ContentEncoding == conveyed.XML {
			ct = trust.OIDSZTPConveyedInfoXML
		}
		ci, err := trust.WrapUnsigned(ct, doc)
		if err != nil {
			return nil, err
		}
		return &conveyed.GetBootstrappingDataOutput{ReportingLevel: resp.ReportingLevel, ConveyedInformation: ci}, nil
	}
	return nil, errors.New("empty test response")
}

func restconfError(w httpx.ResponseWriter, enc conveyed.Encoding, code int, tag, msg string) int {
	w.Header().Set("Content-Type", enc.MediaType())
	w.WriteHeader(code)
	if enc == conveyed.XML {
		fmt.Fprintf(w, `<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf"><error><error-type>application</error-type><error-tag>%s</error-tag><error-message>%s</error-message></error></errors>`, tag, xmlEscape(msg))
		return code
	}
	fmt.Fprintf(w, `{"ietf-restconf:errors":{"error":[{"error-type":"application","error-tag":%q,"error-message":%q}]}}`, tag, msg)
	return code
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
