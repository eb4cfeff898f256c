cat <<EOF
$(bin/app)
EOF