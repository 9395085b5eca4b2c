package sns

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"time"
)

// Email deliveries go through the configured SMTP relay (Options.SMTP), which must accept mail
// from this server without authentication. STARTTLS is used when the relay offers it, with the
// relay's certificate verified, except for a relay on a loopback address.

const smtpTimeout = time.Minute

// emailText is the Subject and body of an email or email-json delivery of env.
func emailText(env *Envelope, asJSON bool) (subject, body string) {
	switch env.Type {
	case TypeNotification:
		subject = env.Subject
		if subject == "" {
			subject = "AWS Notification Message"
		}
		if asJSON {
			return subject, string(env.Marshal())
		}
		return subject, env.Message + "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n" +
			env.UnsubscribeURL + "\n\nPlease do not reply directly to this email.\n"
	default:
		subject = "AWS Notification - Subscription Confirmation"
		if asJSON {
			return subject, string(env.Marshal())
		}
		return subject, "You have chosen to subscribe to the topic:\n" + env.TopicArn +
			"\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary):\nConfirm subscription: " +
			env.SubscribeURL + "\n\nPlease do not reply directly to this email.\n"
	}
}

// mailMessage renders a delivery as an RFC 5322 message.
func (s *Service) mailMessage(d *delivery) []byte {
	from := (&mail.Address{Name: d.From, Address: s.smtp.From}).String()
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: %s\r\n", (&mail.Address{Address: d.Endpoint}).String())
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", d.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@opentrail.sns>\r\n", d.ID)
	fmt.Fprintf(&b, "X-Amz-Sns-Message-Id: %s\r\n", d.MessageID)
	fmt.Fprintf(&b, "X-Amz-Sns-Message-Type: %s\r\n", d.Type)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write(bytes.ReplaceAll([]byte(d.Body), []byte("\n"), []byte("\r\n")))
	_ = w.Close()
	return b.Bytes()
}

// sendMail makes one email delivery attempt; a 5xx reply of the relay is permanent.
func (s *Service) sendMail(ctx context.Context, d *delivery) error {
	if s.smtp == nil {
		return fmt.Errorf("%w: no SMTP relay is configured", errPermanent)
	}
	host, _, err := net.SplitHostPort(s.smtp.Relay)
	if err != nil {
		return fmt.Errorf("%w: bad SMTP relay address: %v", errPermanent, err)
	}
	conn, err := (&net.Dialer{Timeout: 15 * time.Second}).DialContext(ctx, "tcp", s.smtp.Relay)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(smtpTimeout))
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && !isLoopback(host) {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if err := c.Mail(s.smtp.From); err != nil {
		return smtpErr(err)
	}
	if err := c.Rcpt(d.Endpoint); err != nil {
		return smtpErr(err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpErr(err)
	}
	if _, err := w.Write(s.mailMessage(d)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return smtpErr(err)
	}
	return c.Quit()
}

func smtpErr(err error) error {
	if isPermanentSMTP(err) {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	return err
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
