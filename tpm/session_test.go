package tpm

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/sztp/sztp/tpm/swtpmtest"
)

// busProxy sits between the agent and swtpm like an interposer on the
// TPM's SPI/I2C bus: it records every command and response and can change
// the response to one command code.
type busProxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	wire     bytes.Buffer
	tamperCC uint32 // flip a byte in the response to this command code
}

func newBusProxy(t *testing.T, upstream string) *busProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &busProxy{ln: ln, upstream: upstream}
	t.Cleanup(func() { ln.Close() })
	go p.serve()
	return p
}

func (p *busProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.relay(c)
	}
}

func readTPMFrame(r io.Reader) ([]byte, error) {
	hdr := make([]byte, 10)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[2:6])
	if n < 10 || n > 1<<16 {
		return nil, io.ErrUnexpectedEOF
	}
	f := make([]byte, n)
	copy(f, hdr)
	_, err := io.ReadFull(r, f[10:])
	return f, err
}

func (p *busProxy) relay(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer up.Close()
	for {
		cmd, err := readTPMFrame(c)
		if err != nil {
			return
		}
		cc := binary.BigEndian.Uint32(cmd[6:10])
		if _, err := up.Write(cmd); err != nil {
			return
		}
		rsp, err := readTPMFrame(up)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.wire.Write(cmd)
		p.wire.Write(rsp)
		if p.tamperCC == cc && len(rsp) > 24 {
			rsp[20] ^= 0x01 // inside the response parameters
		}
		p.mu.Unlock()
		if _, err := c.Write(rsp); err != nil {
			return
		}
	}
}

func (p *busProxy) sawBytes(secret []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Contains(p.wire.Bytes(), secret)
}

func (p *busProxy) tamper(cc uint32) {
	p.mu.Lock()
	p.tamperCC = cc
	p.mu.Unlock()
}

func readPubPEM(t *testing.T, file string) any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	pub, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// Issue 12 item 2 (protected TPM sessions): with an interposer recording
// the command stream, the content-encryption key that RSA_Decrypt returns
// and the ECDH shared secret that ECDH_ZGen returns never cross the bus in
// plaintext, and a response changed in transit is an error. The control
// case (sessions off) shows the same interposer sees the plaintext key: the
// assertions fail without the protection.
func TestProtectedSessionsAgainstBusInterposer(t *testing.T) {
	sw := swtpmtest.Start(t)
	const rsaHandle, eccHandle = 0x81000010, 0x81000011
	rsaPub := readPubPEM(t, sw.ProvisionDecryptionKey(t, "rsa2048:null", rsaHandle)).(*rsa.PublicKey)
	sw.ProvisionDecryptionKey(t, "ecc256:null", eccHandle)
	proxy := newBusProxy(t, strings.TrimPrefix(sw.Path, "tcp://"))
	dev, err := Open("tcp://" + proxy.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()

	rsaDec, _, err := OpenDecryptionKey(dev, rsaHandle)
	if err != nil {
		t.Fatal(err)
	}
	cek := make([]byte, 32)
	rand.Read(cek)
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, rsaPub, cek)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rsaDec.Decrypt(nil, ct, nil)
	if err != nil || !bytes.Equal(got, cek) {
		t.Fatalf("RSA decrypt through the proxy: %v", err)
	}
	if proxy.sawBytes(cek) {
		t.Error("the content-encryption key crossed the bus in plaintext")
	}

	_, zgen, err := OpenDecryptionKey(dev, eccHandle)
	if err != nil {
		t.Fatal(err)
	}
	peer, _ := ecdh.P256().GenerateKey(rand.Reader)
	want, _ := peer.ECDH(zgen.Public())
	z, err := zgen.ECDH(peer.PublicKey())
	if err != nil || !bytes.Equal(z, want) {
		t.Fatalf("ECDH through the proxy: %v", err)
	}
	if proxy.sawBytes(want) {
		t.Error("the ECDH shared secret crossed the bus in plaintext")
	}

	// A response changed in transit fails the session's response HMAC.
	proxy.tamper(0x159) // TPM_CC_RSA_Decrypt
	if out, err := rsaDec.Decrypt(nil, ct, nil); err == nil {
		t.Errorf("a tampered RSA_Decrypt response was accepted (got %x)", out)
	}
	proxy.tamper(0)

	// Control: the same interposer without protected sessions sees the key
	// (what the agent did before). swtpm serves one connection at a time.
	dev.Close()
	dev2, err := Open("tcp://" + proxy.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer dev2.Close()
	dev2.sess.unprotected = true
	plain, _, err := OpenDecryptionKey(dev2, rsaHandle)
	if err != nil {
		t.Fatal(err)
	}
	cek2 := make([]byte, 32)
	rand.Read(cek2)
	ct2, _ := rsa.EncryptPKCS1v15(rand.Reader, rsaPub, cek2)
	if got, err := plain.Decrypt(nil, ct2, nil); err != nil || !bytes.Equal(got, cek2) {
		t.Fatalf("unprotected decrypt: %v", err)
	}
	if !proxy.sawBytes(cek2) {
		t.Error("control: the proxy did not see an unprotected key; the test would prove nothing")
	}
}

// A key whose Name does not match its public area (a ReadPublic response
// changed in transit) is refused.
func TestReadPublicTamperDetected(t *testing.T) {
	sw := swtpmtest.Start(t)
	sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{})
	proxy := newBusProxy(t, strings.TrimPrefix(sw.Path, "tcp://"))
	proxy.tamper(0x173) // TPM_CC_ReadPublic
	dev, err := Open("tcp://" + proxy.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if _, err := NewSigner(dev, DefaultIDevIDHandle, nil); err == nil {
		t.Fatal("a tampered ReadPublic response was accepted")
	}
}

// A salt key other than the pinned one (an interposer's key) stops every
// protected command.
func TestSaltKeyPin(t *testing.T) {
	sw := swtpmtest.Start(t)
	sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{})
	dev, err := Open(sw.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	s, err := NewSigner(dev, DefaultIDevIDHandle, nil)
	if err != nil {
		t.Fatal(err)
	}
	name, err := dev.SaltKeyName()
	if err != nil {
		t.Fatal(err)
	}
	digest := make([]byte, 32)
	for _, tc := range []struct {
		pin []byte
		ok  bool
	}{{name, true}, {append([]byte{0, 0x0b}, make([]byte, 32)...), false}} {
		dev.PinSaltKey(tc.pin)
		_, err := s.Sign(nil, digest, crypto.SHA256)
		if (err == nil) != tc.ok || (!tc.ok && !errors.Is(err, ErrSaltKeyPin)) {
			t.Errorf("pin %x: err = %v, want ok=%v", tc.pin, err, tc.ok)
		}
	}
}
