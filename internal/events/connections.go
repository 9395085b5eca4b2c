package events

import (
	"context"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/opentrail/opentrail/internal/server"
)

type keyValue struct {
	Key           string `json:"Key"`
	Value         string `json:"Value"`
	IsValueSecret bool   `json:"IsValueSecret"`
}

type createConnectionInput struct {
	Name              string `json:"Name"`
	Description       string `json:"Description"`
	AuthorizationType string `json:"AuthorizationType"`
	AuthParameters    struct {
		BasicAuthParameters *struct {
			Username string `json:"Username"`
			Password string `json:"Password"`
		} `json:"BasicAuthParameters"`
		ApiKeyAuthParameters *struct {
			ApiKeyName  string `json:"ApiKeyName"`
			ApiKeyValue string `json:"ApiKeyValue"`
		} `json:"ApiKeyAuthParameters"`
		OAuthParameters          any `json:"OAuthParameters"`
		InvocationHttpParameters *struct {
			HeaderParameters      []keyValue `json:"HeaderParameters"`
			QueryStringParameters []keyValue `json:"QueryStringParameters"`
		} `json:"InvocationHttpParameters"`
	} `json:"AuthParameters"`
}

type connectionOutput struct {
	ConnectionArn      string       `json:"ConnectionArn"`
	Name               string       `json:"Name,omitempty"`
	Description        string       `json:"Description,omitempty"`
	ConnectionState    string       `json:"ConnectionState"`
	AuthorizationType  string       `json:"AuthorizationType,omitempty"`
	AuthParameters     any          `json:"AuthParameters,omitempty"`
	CreationTime       epochSeconds `json:"CreationTime"`
	LastModifiedTime   epochSeconds `json:"LastModifiedTime"`
	LastAuthorizedTime epochSeconds `json:"LastAuthorizedTime"`
}

var reConnName = regexp.MustCompile(`^[\.\-_A-Za-z0-9]+$`)

func (s *Service) createConnection(ctx context.Context, c *server.Call, in *createConnectionInput) (*connectionOutput, error) {
	if err := checkName("name", in.Name, 64, reConnName); err != nil {
		return nil, err
	}
	conn := &connection{Account: c.Account(), Region: c.Region, Name: in.Name, UUID: newUUID(), Description: in.Description,
		AuthorizationType: in.AuthorizationType, Created: s.now().UTC()}
	ap := in.AuthParameters
	switch in.AuthorizationType {
	case "API_KEY":
		if ap.ApiKeyAuthParameters == nil || ap.ApiKeyAuthParameters.ApiKeyName == "" || ap.ApiKeyAuthParameters.ApiKeyValue == "" {
			return nil, errorf(CodeValidation, "ApiKeyAuthParameters with ApiKeyName and ApiKeyValue are required for AuthorizationType API_KEY.")
		}
		conn.APIKeyName, conn.APIKeyValue = ap.ApiKeyAuthParameters.ApiKeyName, ap.ApiKeyAuthParameters.ApiKeyValue
	case "BASIC":
		if ap.BasicAuthParameters == nil || ap.BasicAuthParameters.Username == "" || ap.BasicAuthParameters.Password == "" {
			return nil, errorf(CodeValidation, "BasicAuthParameters with Username and Password are required for AuthorizationType BASIC.")
		}
		conn.Username, conn.Password = ap.BasicAuthParameters.Username, ap.BasicAuthParameters.Password
	case "OAUTH_CLIENT_CREDENTIALS":
		return nil, errUnsupported("CreateConnection with AuthorizationType OAUTH_CLIENT_CREDENTIALS")
	default:
		return nil, errConstraint(in.AuthorizationType, "authorizationType", "Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]")
	}
	if hp := ap.InvocationHttpParameters; hp != nil {
		for _, kv := range hp.HeaderParameters {
			if conn.Headers == nil {
				conn.Headers = map[string]string{}
			}
			conn.Headers[kv.Key] = kv.Value
		}
		for _, kv := range hp.QueryStringParameters {
			if conn.Query == nil {
				conn.Query = map[string]string{}
			}
			conn.Query[kv.Key] = kv.Value
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := resRef{c.Account(), c.Region, in.Name}
	if s.conns[ref] != nil {
		return nil, errorf(CodeResourceAlreadyExists, "Connection %s already exists.", in.Name)
	}
	if err := s.store.Put(connKey(ref), s.stored(conn)); err != nil {
		return nil, internal("put connection", err)
	}
	s.conns[ref] = conn
	c.AddResource("AWS::Events::Connection", conn.arn())
	return &connectionOutput{ConnectionArn: conn.arn(), ConnectionState: "AUTHORIZED",
		CreationTime: epochSeconds(conn.Created), LastModifiedTime: epochSeconds(conn.Created), LastAuthorizedTime: epochSeconds(conn.Created)}, nil
}

func connOut(conn *connection) connectionOutput {
	o := connectionOutput{ConnectionArn: conn.arn(), Name: conn.Name, Description: conn.Description, ConnectionState: "AUTHORIZED",
		AuthorizationType: conn.AuthorizationType, CreationTime: epochSeconds(conn.Created),
		LastModifiedTime: epochSeconds(conn.Created), LastAuthorizedTime: epochSeconds(conn.Created)}
	// Secrets are never returned, as on AWS.
	switch conn.AuthorizationType {
	case "API_KEY":
		o.AuthParameters = map[string]any{"ApiKeyAuthParameters": map[string]string{"ApiKeyName": conn.APIKeyName}}
	case "BASIC":
		o.AuthParameters = map[string]any{"BasicAuthParameters": map[string]string{"Username": conn.Username}}
	}
	return o
}

func (s *Service) describeConnection(ctx context.Context, c *server.Call, in *nameInput) (*connectionOutput, error) {
	s.mu.RLock()
	conn := s.conns[resRef{c.Account(), c.Region, in.Name}]
	s.mu.RUnlock()
	if conn == nil {
		return nil, errorf(CodeResourceNotFound, "Failed to describe the connection(s). Connection '%s' does not exist.", in.Name)
	}
	o := connOut(conn)
	return &o, nil
}

func (s *Service) deleteConnection(ctx context.Context, c *server.Call, in *nameInput) (*connectionOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := resRef{c.Account(), c.Region, in.Name}
	conn := s.conns[ref]
	if conn == nil {
		return nil, errorf(CodeResourceNotFound, "Failed to delete the connection(s). Connection '%s' does not exist.", in.Name)
	}
	if err := s.store.Delete(connKey(ref)); err != nil {
		return nil, internal("delete connection", err)
	}
	delete(s.conns, ref)
	o := connOut(conn)
	o.ConnectionState = "DELETING"
	o.Name, o.Description, o.AuthorizationType, o.AuthParameters = "", "", "", nil
	return &o, nil
}

type listConnectionsOutput struct {
	Connections []connectionOutput `json:"Connections"`
	NextToken   string             `json:"NextToken,omitempty"`
}

func (s *Service) listConnections(ctx context.Context, c *server.Call, in *listInput) (*listConnectionsOutput, error) {
	s.mu.RLock()
	var all []*connection
	for r, conn := range s.conns {
		if r.Account == c.Account() && r.Region == c.Region && strings.HasPrefix(r.Name, in.NamePrefix) {
			all = append(all, conn)
		}
	}
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	from, to, next, err := page(len(all), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &listConnectionsOutput{Connections: []connectionOutput{}, NextToken: next}
	for _, conn := range all[from:to] {
		o := connOut(conn)
		o.AuthParameters, o.Description = nil, ""
		out.Connections = append(out.Connections, o)
	}
	return out, nil
}

type createAPIDestinationInput struct {
	Name                         string `json:"Name"`
	Description                  string `json:"Description"`
	ConnectionArn                string `json:"ConnectionArn"`
	InvocationEndpoint           string `json:"InvocationEndpoint"`
	HttpMethod                   string `json:"HttpMethod"`
	InvocationRateLimitPerSecond int    `json:"InvocationRateLimitPerSecond"`
}

type apiDestinationOutput struct {
	ApiDestinationArn            string       `json:"ApiDestinationArn"`
	Name                         string       `json:"Name,omitempty"`
	Description                  string       `json:"Description,omitempty"`
	ApiDestinationState          string       `json:"ApiDestinationState"`
	ConnectionArn                string       `json:"ConnectionArn,omitempty"`
	InvocationEndpoint           string       `json:"InvocationEndpoint,omitempty"`
	HttpMethod                   string       `json:"HttpMethod,omitempty"`
	InvocationRateLimitPerSecond int          `json:"InvocationRateLimitPerSecond,omitempty"`
	CreationTime                 epochSeconds `json:"CreationTime"`
	LastModifiedTime             epochSeconds `json:"LastModifiedTime"`
}

func (s *Service) createAPIDestination(ctx context.Context, c *server.Call, in *createAPIDestinationInput) (*apiDestinationOutput, error) {
	if err := checkName("name", in.Name, 64, reConnName); err != nil {
		return nil, err
	}
	switch in.HttpMethod {
	case "POST", "GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE":
	default:
		return nil, errConstraint(in.HttpMethod, "httpMethod", "Member must satisfy enum value set: [POST, GET, HEAD, OPTIONS, PUT, PATCH, DELETE]")
	}
	u, err := url.Parse(in.InvocationEndpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(in.InvocationEndpoint) > 2048 {
		return nil, errorf(CodeValidation, "Invalid InvocationEndpoint: %s", in.InvocationEndpoint)
	}
	if in.InvocationRateLimitPerSecond < 0 {
		return nil, errConstraint(in.InvocationRateLimitPerSecond, "invocationRateLimitPerSecond", "Member must have value greater than or equal to 1")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cn := connectionName(in.ConnectionArn)
	if conn := s.conns[resRef{c.Account(), c.Region, cn}]; conn == nil || conn.arn() != in.ConnectionArn {
		return nil, errorf(CodeResourceNotFound, "Connection '%s' does not exist.", cn)
	}
	ref := resRef{c.Account(), c.Region, in.Name}
	if s.dests[ref] != nil {
		return nil, errorf(CodeResourceAlreadyExists, "An api-destination '%s' already exists.", in.Name)
	}
	d := &apiDestination{Account: c.Account(), Region: c.Region, Name: in.Name, UUID: newUUID(), Description: in.Description,
		ConnectionArn: in.ConnectionArn, Endpoint: in.InvocationEndpoint, Method: in.HttpMethod,
		RateLimit: in.InvocationRateLimitPerSecond, Created: s.now().UTC()}
	if d.RateLimit == 0 {
		d.RateLimit = 300
	}
	if err := s.store.Put(destKey(ref), d); err != nil {
		return nil, internal("put api destination", err)
	}
	s.dests[ref] = d
	c.AddResource("AWS::Events::ApiDestination", d.arn())
	return &apiDestinationOutput{ApiDestinationArn: d.arn(), ApiDestinationState: "ACTIVE",
		CreationTime: epochSeconds(d.Created), LastModifiedTime: epochSeconds(d.Created)}, nil
}

func destOut(d *apiDestination) apiDestinationOutput {
	return apiDestinationOutput{ApiDestinationArn: d.arn(), Name: d.Name, Description: d.Description, ApiDestinationState: "ACTIVE",
		ConnectionArn: d.ConnectionArn, InvocationEndpoint: d.Endpoint, HttpMethod: d.Method,
		InvocationRateLimitPerSecond: d.RateLimit, CreationTime: epochSeconds(d.Created), LastModifiedTime: epochSeconds(d.Created)}
}

func (s *Service) describeAPIDestination(ctx context.Context, c *server.Call, in *nameInput) (*apiDestinationOutput, error) {
	s.mu.RLock()
	d := s.dests[resRef{c.Account(), c.Region, in.Name}]
	s.mu.RUnlock()
	if d == nil {
		return nil, errorf(CodeResourceNotFound, "Failed to describe the api-destination(s). An api-destination '%s' does not exist.", in.Name)
	}
	o := destOut(d)
	return &o, nil
}

func (s *Service) deleteAPIDestination(ctx context.Context, c *server.Call, in *nameInput) (*server.NoOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := resRef{c.Account(), c.Region, in.Name}
	if s.dests[ref] == nil {
		return nil, errorf(CodeResourceNotFound, "Failed to delete the api-destination(s). An api-destination '%s' does not exist.", in.Name)
	}
	if err := s.store.Delete(destKey(ref)); err != nil {
		return nil, internal("delete api destination", err)
	}
	delete(s.dests, ref)
	return nil, nil
}

type listAPIDestinationsOutput struct {
	ApiDestinations []apiDestinationOutput `json:"ApiDestinations"`
	NextToken       string                 `json:"NextToken,omitempty"`
}

func (s *Service) listAPIDestinations(ctx context.Context, c *server.Call, in *listInput) (*listAPIDestinationsOutput, error) {
	s.mu.RLock()
	var all []*apiDestination
	for r, d := range s.dests {
		if r.Account == c.Account() && r.Region == c.Region && strings.HasPrefix(r.Name, in.NamePrefix) {
			all = append(all, d)
		}
	}
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	from, to, next, err := page(len(all), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &listAPIDestinationsOutput{ApiDestinations: []apiDestinationOutput{}, NextToken: next}
	for _, d := range all[from:to] {
		out.ApiDestinations = append(out.ApiDestinations, destOut(d))
	}
	return out, nil
}
