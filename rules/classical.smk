# Stage 'classical': rules are added by the engineer owning this stage.
