-- head: 0008_result_timing
-- Written by `python -m prompteur.store.snapshot` from the migrations: do not edit.
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
)
-- ;;
CREATE TABLE prompt_versions (
	name VARCHAR(200) NOT NULL, 
	version VARCHAR(64) NOT NULL, 
	content TEXT NOT NULL, 
	source VARCHAR(1000), 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (name, version)
)
-- ;;
CREATE INDEX ix_prompt_versions_version ON prompt_versions (version)
-- ;;
CREATE TABLE runs (
	id VARCHAR(40) NOT NULL, 
	suite VARCHAR(1000) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	"plan" JSON NOT NULL, 
	total INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	PRIMARY KEY (id)
)
-- ;;
CREATE TABLE results (
	id INTEGER NOT NULL, 
	run_id VARCHAR(40) NOT NULL, 
	prompt VARCHAR(200) NOT NULL, 
	version VARCHAR(64) NOT NULL, 
	model VARCHAR(300) NOT NULL, 
	case_id VARCHAR(200) NOT NULL, 
	repeat INTEGER NOT NULL, 
	inputs JSON NOT NULL, 
	expected JSON, 
	output TEXT, 
	passed BOOLEAN, 
	score FLOAT, 
	checks JSON NOT NULL, 
	latency_s FLOAT, 
	input_tokens INTEGER NOT NULL, 
	output_tokens INTEGER NOT NULL, 
	cost FLOAT, 
	error TEXT, 
	cached BOOLEAN NOT NULL, 
	attempts INTEGER NOT NULL, 
	tags JSON NOT NULL, 
	created_at DATETIME NOT NULL, queue_s FLOAT, enforcement VARCHAR(40), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_results_work UNIQUE (run_id, version, model, case_id, repeat), 
	FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE
)
-- ;;
CREATE TABLE response_cache (
	"key" VARCHAR(64) NOT NULL, 
	response JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY ("key")
)
-- ;;
CREATE TABLE probe_findings (
	id INTEGER NOT NULL, 
	run_id VARCHAR(40) NOT NULL, 
	probe VARCHAR(100) NOT NULL, 
	category VARCHAR(50) NOT NULL, 
	severity VARCHAR(20) NOT NULL, 
	model VARCHAR(300) NOT NULL, 
	case_id VARCHAR(400) NOT NULL, 
	origin VARCHAR(200) NOT NULL, 
	why TEXT NOT NULL, 
	inputs JSON NOT NULL, 
	output TEXT, 
	score FLOAT, 
	evidence JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE
)
-- ;;
CREATE INDEX ix_probe_findings_run ON probe_findings (run_id, probe)
-- ;;
CREATE TABLE probe_reports (
	run_id VARCHAR(40) NOT NULL, 
	report JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (run_id), 
	FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE
)
-- ;;
CREATE TABLE judge_calibrations (
	id INTEGER NOT NULL, 
	judge VARCHAR(300) NOT NULL, 
	rubric TEXT NOT NULL, 
	rubric_hash VARCHAR(64) NOT NULL, 
	labels VARCHAR(1000) NOT NULL, 
	n INTEGER NOT NULL, 
	accuracy FLOAT NOT NULL, 
	kappa FLOAT, 
	kappa_low FLOAT, 
	kappa_high FLOAT, 
	metrics JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
)
-- ;;
CREATE INDEX ix_judge_calibrations_judge ON judge_calibrations (judge, rubric_hash)
-- ;;
CREATE TABLE prompt_labels (
	name VARCHAR(200) NOT NULL, 
	label VARCHAR(100) NOT NULL, 
	version VARCHAR(64) NOT NULL, 
	seq INTEGER NOT NULL, 
	moved_by VARCHAR(200) NOT NULL, 
	moved_at DATETIME NOT NULL, 
	PRIMARY KEY (name, label), 
	CONSTRAINT fk_prompt_labels_version FOREIGN KEY(name, version) REFERENCES prompt_versions (name, version)
)
-- ;;
CREATE TABLE label_moves (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	label VARCHAR(100) NOT NULL, 
	seq INTEGER NOT NULL, 
	action VARCHAR(20) NOT NULL, 
	from_version VARCHAR(64), 
	to_version VARCHAR(64), 
	actor VARCHAR(200) NOT NULL, 
	reason TEXT, 
	evidence JSON, 
	forced BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_label_moves_seq UNIQUE (name, label, seq)
)
-- ;;
CREATE INDEX ix_label_moves_created ON label_moves (created_at)
-- ;;
CREATE TABLE traces (
	id INTEGER NOT NULL, 
	trace_id VARCHAR(32) NOT NULL, 
	span_id VARCHAR(16) NOT NULL, 
	parent_span_id VARCHAR(16), 
	prompt VARCHAR(200), 
	version VARCHAR(64), 
	label VARCHAR(100), 
	model VARCHAR(300), 
	operation VARCHAR(50), 
	source VARCHAR(20) NOT NULL, 
	inputs JSON NOT NULL, 
	output TEXT, 
	error TEXT, 
	latency_ms FLOAT, 
	tokens_in INTEGER, 
	tokens_out INTEGER, 
	cost FLOAT, 
	meta JSON NOT NULL, 
	flagged BOOLEAN NOT NULL, 
	scores JSON, 
	passed BOOLEAN, 
	score FLOAT, 
	scored_at DATETIME, 
	started_at DATETIME NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_traces_span UNIQUE (trace_id, span_id)
)
-- ;;
CREATE INDEX ix_traces_started ON traces (started_at)
-- ;;
CREATE INDEX ix_traces_prompt_time ON traces (prompt, started_at)
-- ;;
CREATE INDEX ix_traces_version_time ON traces (prompt, version, started_at)
-- ;;
CREATE INDEX ix_traces_unscored ON traces (prompt, scored_at)
-- ;;
CREATE TABLE api_keys (
	id VARCHAR(32) NOT NULL, 
	project VARCHAR(200) NOT NULL, 
	name VARCHAR(200), 
	key_hash VARCHAR(64) NOT NULL, 
	scopes VARCHAR(100) NOT NULL, 
	created_at DATETIME NOT NULL, 
	revoked_at DATETIME, 
	last_used_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_api_keys_hash UNIQUE (key_hash)
)
-- ;;
CREATE INDEX ix_api_keys_project ON api_keys (project)
-- ;;
CREATE TABLE review_queues (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	score VARCHAR(100) NOT NULL, 
	source VARCHAR(20) NOT NULL, 
	ref VARCHAR(200), 
	selection VARCHAR(30) NOT NULL, 
	blind BOOLEAN NOT NULL, 
	reviewers INTEGER NOT NULL, 
	spec JSON NOT NULL, 
	created_by VARCHAR(200), 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_review_queues_name UNIQUE (name)
)
-- ;;
CREATE TABLE review_items (
	id INTEGER NOT NULL, 
	queue_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	result_id INTEGER, 
	trace_id INTEGER, 
	case_id VARCHAR(400), 
	prompt VARCHAR(200), 
	version VARCHAR(64), 
	model VARCHAR(300), 
	inputs JSON NOT NULL, 
	expected JSON, 
	output TEXT, 
	verdict JSON, 
	second TEXT, 
	sides JSON, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_review_items_position UNIQUE (queue_id, position), 
	FOREIGN KEY(queue_id) REFERENCES review_queues (id) ON DELETE CASCADE
)
-- ;;
CREATE TABLE review_labels (
	id INTEGER NOT NULL, 
	item_id INTEGER NOT NULL, 
	queue_id INTEGER NOT NULL, 
	reviewer VARCHAR(200) NOT NULL, 
	value JSON, 
	comment TEXT, 
	correction TEXT, 
	skipped BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_review_labels_reviewer UNIQUE (item_id, reviewer), 
	FOREIGN KEY(item_id) REFERENCES review_items (id) ON DELETE CASCADE, 
	FOREIGN KEY(queue_id) REFERENCES review_queues (id) ON DELETE CASCADE
)
-- ;;
CREATE INDEX ix_review_labels_queue ON review_labels (queue_id)
-- ;;
CREATE TABLE trace_feedback (
	id INTEGER NOT NULL, 
	trace_id VARCHAR(32) NOT NULL, 
	score FLOAT NOT NULL, 
	comment TEXT, 
	source VARCHAR(200), 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
)
-- ;;
CREATE INDEX ix_trace_feedback_trace ON trace_feedback (trace_id)
-- ;;
CREATE INDEX ix_trace_feedback_created ON trace_feedback (created_at)
-- ;;
INSERT INTO alembic_version VALUES ('0008_result_timing')
