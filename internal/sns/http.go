package sns

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/opentrail/opentrail/internal/awsproto"
)

// Handler serves the unauthenticated paths of the service on the main listener: the
// SubscribeURL (ConfirmPath), the UnsubscribeURL (UnsubscribePath) and the signing
// certificate (CertPath). Register it for each of those paths.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case ConfirmPath:
			s.serveConfirm(w, r)
		case UnsubscribePath:
			s.serveUnsubscribe(w, r)
		case s.CertPath():
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			w.Header().Set("Content-Type", "application/x-pem-file")
			w.Header().Set("Cache-Control", "public, max-age=86400")
			_, _ = w.Write(s.signer.certPEM)
		default:
			http.NotFound(w, r)
		}
	})
}

var wire = awsproto.Wire{Protocol: awsproto.Query, XMLNamespace: XMLNS}

// serveConfirm answers a SubscribeURL: GET ?Action=ConfirmSubscription&TopicArn=…&Token=…,
// with ConfirmSubscription's XML response, as AWS answers the link.
func (s *Service) serveConfirm(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	q := r.URL.Query()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		awsproto.WriteError(w, wire, reqID, invalidParameter("Invalid parameter: the confirmation link takes GET requests"))
		return
	}
	if a := q.Get("Action"); a != "" && a != "ConfirmSubscription" {
		awsproto.WriteError(w, wire, reqID, invalidParameter("Invalid parameter: Action"))
		return
	}
	ref, ok := parseTopicARN(q.Get("TopicArn"))
	if !ok {
		awsproto.WriteError(w, wire, reqID, invalidParameter("Invalid parameter: TopicArn"))
		return
	}
	arn, err := s.confirm(ref, q.Get("Token"), false, false)
	if err != nil {
		s.log.Info("sns: confirmation link refused", "topic", ref.ARN(), "err", err)
		awsproto.WriteError(w, wire, reqID, err)
		return
	}
	s.log.Info("sns: subscription confirmed through its link", "subscription", arn)
	if err := awsproto.WriteQuery(w, "ConfirmSubscription", XMLNS, reqID, &subscriptionArnOutput{SubscriptionArn: arn}); err != nil {
		s.log.Warn("sns: write confirmation response", "err", err)
	}
}

// serveUnsubscribe answers an UnsubscribeURL: GET ?Action=Unsubscribe&SubscriptionArn=….
func (s *Service) serveUnsubscribe(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	q := r.URL.Query()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		awsproto.WriteError(w, wire, reqID, invalidParameter("Invalid parameter: the unsubscribe link takes GET requests"))
		return
	}
	if a := q.Get("Action"); a != "" && a != "Unsubscribe" {
		awsproto.WriteError(w, wire, reqID, invalidParameter("Invalid parameter: Action"))
		return
	}
	arn := q.Get("SubscriptionArn")
	if _, ok := parseSubscriptionARN(arn); !ok {
		awsproto.WriteError(w, wire, reqID, invalidParameter("Invalid parameter: SubscriptionArn"))
		return
	}
	if err := s.remove(arn, true); err != nil {
		awsproto.WriteError(w, wire, reqID, err)
		return
	}
	s.log.Info("sns: subscription removed through its unsubscribe link", "subscription", arn)
	if err := awsproto.WriteQuery(w, "Unsubscribe", XMLNS, reqID, nil); err != nil {
		s.log.Warn("sns: write unsubscribe response", "err", err)
	}
}
